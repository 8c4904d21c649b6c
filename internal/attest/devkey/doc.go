// Package devkey is development attestation: evidence that simulators,
// emulators and CI jobs can produce, where App Attest, key attestation
// and Play Integrity do not exist, so that teams can build and test
// against a gateway that requires attestation without real devices.
//
// It proves much less than a platform attestation: only that whoever
// sends it holds a key that the operator's development CA certified for
// this app. Anyone with the CA key can make such a key, so development
// evidence is accepted only for apps whose policy allows the development
// environment (Policy.AllowDevelopment); a production app refuses it
// with ReasonEnvironmentNotAllowed whatever it says, and the facts of
// every result say Environment "development".
//
// # The development CA and device certificates
//
// The operator runs `drawbridge attestation dev-ca --out DIR` (NewCA): an
// ECDSA P-256 key (DIR/ca.key, PKCS#8, mode 0600) and a self-signed CA
// certificate (DIR/ca.pem) with path length 0. The key stays on the
// developers' machines or in the CI secret store, never in a repository
// and never where the gateway runs (ParseCAs refuses a file that holds
// one); the certificate goes in the app's configuration.
//
// `drawbridge attestation dev-device --ca DIR --app APP --out DIR`
// (IssueDevice) makes a device key and certifies it: a leaf valid 30
// days (at most 90), digitalSignature only, not a CA, naming the app in
// one URI subject alternative name, drawbridge-dev:app/<app> (AppURI). A
// URI SAN, not a private extension, so that every X.509 tool shows which
// app a certificate is for. App ids are 1 to 128 letters, digits, '.',
// '_' or '-', which a URI carries unescaped (ValidApp).
//
// # Evidence
//
// The app signs client_data_hash (docs/protocol.md §2) with the device
// key: ECDSA P-256 with SHA-256 over those 32 bytes as the message, as
// Android's "SHA256withECDSA" and iOS's ecdsaSignatureMessageX962SHA256
// do, ASN.1 DER. It sends the signature (base64url) with the device
// certificate chain (standard base64 DER); Attestor does this for Go
// clients and tests, and Evidence's JSON methods read and write the two
// members.
//
// # Checks
//
// Verify runs, in this order (the reason codes follow it): the policy's
// environment; size limits before parsing; crypto/x509 parsing; the
// chain, verified by x509.Verify with the pinned development CAs as the
// only roots at the verification time; validity of each certificate; the
// device certificate's usage and key type; the app it names; the
// signature over the expected client_data_hash. Checks that do not
// depend on one another all run, so that a result lists every failure.
//
// # Time
//
// Verify never reads the clock. Certificates start Backdate (5 minutes)
// before they are issued, so that a gateway whose clock is a little
// behind the developer's accepts a fresh one.
//
// # The CLI's input
//
// `drawbridge attestation verify --platform dev --input FILE` reads one
// JSON object (unknown members are refused):
//
//	{
//	  "app":               "shop-ios",
//	  "certificate_chain": ["<device certificate, DER, standard base64>"],
//	  "signature":         "<ASN.1 DER signature, base64url>",
//	  "client_data":       "<base64url, as the app sends it>",
//	  "ca_file":           "devca/ca.pem"
//	}
//
// app is the app the certificate must name. Instead of client_data,
// client_data_utf8 or client_data_hash_b64 may be given; instead of
// ca_file (relative to the input file's directory), ca_pem holds the CA
// certificates themselves. A pasted exchange request's signing_key and
// app_version are read and ignored. Without --allow-development the
// verdict is a refusal with devkey.environment_not_allowed: the strictest
// policy is a production one.
package devkey
