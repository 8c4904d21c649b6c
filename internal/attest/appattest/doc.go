// Package appattest verifies Apple App Attest evidence: the attestation
// that registers an app's key, the assertions the app signs with it
// afterwards, and the receipts Apple issues for the key.
//
// It follows Apple's "Validating apps that connect to your server"; the
// code cites that page's steps by number ("step 4" of "Verify the
// attestation", "assertion step 5" of "Verify the assertion").
//
// # Why the checks are what they are
//
// An attestation proves three things only together: Apple's App Attest CA
// certified a key (the x5c chain, step 1), the certificate is bound to this
// exact authenticator data and this server's one-time challenge (the nonce,
// steps 2-4), and the authenticator data names this app, a fresh key and a
// known environment (steps 5-9). Dropping any one lets an attacker replay a
// genuine attestation of another app, another challenge or another key.
// The receipt inside is verified too: it is what the server later hands
// back to Apple for the fraud risk metric, so it must be Apple's and about
// this key. Apple Root CA - G3 anchors many Apple CAs, so a receipt's
// signer must also carry Apple's receipt-signing marker extension
// (1.2.840.113635.100.12.15), and the CMS certificate set may hold nothing
// but the chain.
//
// An assertion is checked against the key stored at attestation and the
// counter stored at the last assertion; the counter must grow, which is
// what makes a captured assertion useless twice. The caller stores the new
// counter atomically.
//
// # Time
//
// No verifier reads the clock: attestations and receipts are verified "as
// of" a time the caller passes, so the recorded real samples can be checked
// at the moment they were made, and refused at any other. App Attest leaf
// certificates live three days to eleven months.
//
// # What the caller defines
//
// Expect.ClientDataHash is whatever bytes the app passed to attestKey. Apple
// documents SHA-256 of the server challenge, but its own published samples
// pass the raw challenge string (21 and 24 bytes), so no length is imposed.
// For assertions the verifier hashes AssertionExpect.ClientData itself; the
// caller still checks that the client data carries its challenge
// (assertion step 6).
//
// # Verdicts
//
// Every verifier returns an attest.Result: Valid, the first failing check
// as Reason and all failing checks as Reasons, with codes
// "appattest.<check>" listed in Reasons in check order. Message maps a code
// to a log line. No code or message carries bytes of the evidence.
//
// # Limits
//
// Inputs are capped before parsing (MaxAttestationSize,
// MaxAssertionSize, MaxReceiptSize). CBOR is decoded with
// github.com/fxamacker/cbor/v2 with indefinite lengths, tags, duplicate and
// unknown keys refused; certificates with crypto/x509; the receipt's
// CMS with github.com/smallstep/pkcs7; small ASN.1 values with cryptobyte.
// Secrets and nonces are compared in constant time.
//
// # Trust anchors
//
// The Apple App Attestation Root CA and Apple Root CA - G3 are embedded
// (roots/*.pem): the gateway needs them at run time and must not fetch
// trust from the network. Expect.Roots and Expect.ReceiptRoots replace them
// in tests.
package appattest
