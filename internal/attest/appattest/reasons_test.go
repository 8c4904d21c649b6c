package appattest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/drawbridge-gw/drawbridge/internal/attest"
	"github.com/fxamacker/cbor/v2"
	"github.com/smallstep/pkcs7"
)

// A reason case builds one synthetic object, verifies it, and names the
// first reason it must fail with ("" for valid).
type reasonCase struct {
	name string
	want string
	run  func(t *testing.T) attest.Result
}

// attCase verifies a synthetic attestation after change has edited the
// build and edit the expectation and time.
func attCase(name, want string, change func(*attBuild), edit func(*Expect, *time.Time)) reasonCase {
	return reasonCase{name: "attestation/" + name, want: want, run: func(t *testing.T) attest.Result {
		b := newAttBuild()
		if change != nil {
			change(b)
		}
		raw, exp, at := b.bytes(), b.expect(), synthTime
		if edit != nil {
			edit(&exp, &at)
		}
		return VerifyAttestation(raw, exp, at)
	}}
}

func rawAttCase(name, want string, raw func(b *attBuild) []byte) reasonCase {
	return reasonCase{name: "attestation/" + name, want: want, run: func(t *testing.T) attest.Result {
		b := newAttBuild()
		return VerifyAttestation(raw(b), b.expect(), synthTime)
	}}
}

// rcptCase verifies a synthetic receipt, alone, at synthTime unless edit
// moves it.
func rcptCase(name, want string, change func(*receiptBuild), edit func(*[]byte, *time.Time)) reasonCase {
	return reasonCase{name: "receipt/" + name, want: want, run: func(t *testing.T) attest.Result {
		b := newAttBuild()
		rb := newReceiptBuild()
		rb.defaults(pki().receiptSigner.cert.Raw, synthTeam+"."+synthBundle, b.clientDataHash)
		if change != nil {
			change(rb)
		}
		raw, at := rb.bytes(), synthTime
		if edit != nil {
			edit(&raw, &at)
		}
		_, res := VerifyReceipt(raw, at, pki().receiptRoots)
		return res
	}}
}

// asrCase verifies a synthetic assertion with counter 5 over "hello",
// stored counter 4, after edit.
func asrCase(name, want string, build func(key *ecdsa.PrivateKey) []byte, edit func(*AssertionExpect)) reasonCase {
	return reasonCase{name: "assertion/" + name, want: want, run: func(t *testing.T) attest.Result {
		key := newKey()
		var raw []byte
		if build != nil {
			raw = build(key)
		} else {
			raw = assertion(key, synthTeam+"."+synthBundle, 5, []byte("hello"))
		}
		exp := AssertionExpect{
			TeamID: synthTeam, BundleID: synthBundle, ClientData: []byte("hello"),
			PublicKey: pkixKey(&key.PublicKey), PreviousCounter: 4,
		}
		if edit != nil {
			edit(&exp)
		}
		return VerifyAssertion(raw, exp)
	}}
}

func reasonCases() []reasonCase {
	other := func() ca {
		return newCA("Test App Attestation CA 1", nil, synthTime.AddDate(-1, 0, 0), synthTime.AddDate(1, 0, 0))
	}
	flip := func(raw []byte, i int) []byte { raw = bytes.Clone(raw); raw[i] ^= 1; return raw }
	return []reasonCase{
		attCase("valid", "", nil, nil),
		attCase("valid development", "", func(b *attBuild) { b.aaguid = aaguidDevelopment }, nil),
		attCase("valid at notBefore", "", nil, func(_ *Expect, at *time.Time) { *at = synthTime.Add(-24 * time.Hour) }),
		attCase("valid at notAfter", "", nil, func(_ *Expect, at *time.Time) { *at = synthTime.Add(48 * time.Hour) }),
		attCase("valid with ED and extensions", "", func(b *attBuild) {
			b.flags |= flagExtensions
			b.tail = mustCBOR(map[string]any{"apple_bundle_version_01": "7"})
		}, nil),
		attCase("valid with extensions, ED clear (Apple 2026)", "", func(b *attBuild) {
			b.tail = mustCBOR(map[string]any{"apple_validation_category_01": []byte{1, 0, 0, 0}})
		}, nil),
		attCase("valid with a 21-byte raw challenge", "", func(b *attBuild) { b.clientDataHash = []byte("test_server_challenge") },
			func(e *Expect, _ *time.Time) { e.ClientDataHash = []byte("test_server_challenge") }),

		attCase("no team", ReasonInvalidExpectation, nil, func(e *Expect, _ *time.Time) { e.TeamID = "" }),
		attCase("no bundle", ReasonInvalidExpectation, nil, func(e *Expect, _ *time.Time) { e.BundleID = "" }),
		attCase("no client data hash", ReasonInvalidExpectation, nil, func(e *Expect, _ *time.Time) { e.ClientDataHash = nil }),
		attCase("unknown environment", ReasonInvalidExpectation, nil, func(e *Expect, _ *time.Time) { e.Environments = []string{"sandbox"} }),
		attCase("zero time", ReasonInvalidExpectation, nil, func(_ *Expect, at *time.Time) { *at = time.Time{} }),
		rawAttCase("too large", ReasonTooLarge, func(b *attBuild) []byte { return make([]byte, MaxAttestationSize+1) }),
		rawAttCase("not CBOR", ReasonMalformed, func(b *attBuild) []byte { return []byte("{\"fmt\":1}") }),
		rawAttCase("truncated", ReasonMalformed, func(b *attBuild) []byte { r := b.bytes(); return r[:len(r)-1] }),
		rawAttCase("trailing byte", ReasonMalformed, func(b *attBuild) []byte { return append(b.bytes(), 0) }),
		rawAttCase("indefinite-length map", ReasonMalformed, func(b *attBuild) []byte {
			r := b.bytes()
			return append(append([]byte{0xbf}, r[1:]...), 0xff)
		}),
		rawAttCase("duplicate key", ReasonMalformed, func(b *attBuild) []byte {
			r := b.bytes() // a map of three pairs: make it four, repeating "fmt"
			r = append(append([]byte{0xa4}, r[1:]...), mustCBOR("fmt")...)
			return append(r, mustCBOR("apple-appattest")...)
		}),
		attCase("unknown top-level key", ReasonMalformed, func(b *attBuild) { b.envelope = func(m map[string]any) { m["extra"] = 1 } }, nil),
		attCase("key in other case", ReasonMalformed, func(b *attBuild) {
			b.envelope = func(m map[string]any) { m["AuthData"] = m["authData"]; delete(m, "authData") }
		}, nil),
		attCase("tagged value", ReasonMalformed, func(b *attBuild) {
			b.envelope = func(m map[string]any) { m["authData"] = cbor.Tag{Number: 24, Content: m["authData"]} }
		}, nil),
		attCase("no authData", ReasonMalformed, func(b *attBuild) { b.envelope = func(m map[string]any) { delete(m, "authData") } }, nil),
		attCase("no attStmt", ReasonMalformed, func(b *attBuild) { b.envelope = func(m map[string]any) { delete(m, "attStmt") } }, nil),
		attCase("no receipt", ReasonMalformed, func(b *attBuild) {
			b.envelope = func(m map[string]any) { delete(m["attStmt"].(map[string]any), "receipt") }
		}, nil),
		attCase("empty x5c", ReasonMalformed, func(b *attBuild) {
			b.envelope = func(m map[string]any) { m["attStmt"].(map[string]any)["x5c"] = [][]byte{} }
		}, nil),
		attCase("five certificates", ReasonMalformed, func(b *attBuild) {
			b.x5cExtra = [][]byte{b.pki.root.cert.Raw, b.pki.root.cert.Raw, b.pki.root.cert.Raw}
		}, nil),
		attCase("certificate not DER", ReasonMalformed, func(b *attBuild) {
			b.envelope = func(m map[string]any) { m["attStmt"].(map[string]any)["x5c"].([][]byte)[1] = []byte{0x30, 0} }
		}, nil),
		attCase("leaf key P-384", ReasonMalformed, func(b *attBuild) { b.leafPub = &p384Key().PublicKey }, nil),
		attCase("authData short", ReasonMalformed, func(b *attBuild) {
			b.envelope = func(m map[string]any) { m["authData"] = m["authData"].([]byte)[:36] }
		}, nil),
		attCase("authData no AT flag", ReasonMalformed, func(b *attBuild) { b.flags = 0 }, nil),
		attCase("authData credential id overruns", ReasonMalformed, func(b *attBuild) {
			b.envelope = func(m map[string]any) { ad := m["authData"].([]byte); ad[53], ad[54] = 0xff, 0xff }
		}, nil),
		attCase("authData credential id empty", ReasonMalformed, func(b *attBuild) {
			b.envelope = func(m map[string]any) { ad := m["authData"].([]byte); ad[53], ad[54] = 0, 0 }
		}, nil),
		attCase("authData ends after AAGUID", ReasonMalformed, func(b *attBuild) {
			b.envelope = func(m map[string]any) { m["authData"] = m["authData"].([]byte)[:54] }
		}, nil),
		attCase("authData COSE key not CBOR", ReasonMalformed, func(b *attBuild) {
			b.envelope = func(m map[string]any) { ad := m["authData"].([]byte); m["authData"] = append(ad[:87], 0xff) }
		}, nil),
		attCase("authData ED set, no extensions", ReasonMalformed, func(b *attBuild) { b.flags |= flagExtensions }, nil),
		attCase("authData trailing bytes not a map", ReasonMalformed, func(b *attBuild) { b.tail = []byte{0x01} }, nil),
		attCase("authData trailing junk after map", ReasonMalformed, func(b *attBuild) { b.tail = []byte{0xa0, 0x00} }, nil),
		attCase("fmt packed", ReasonBadFormat, func(b *attBuild) { b.fmt = "packed" }, nil),
		attCase("fmt other with other statement", ReasonBadFormat, func(b *attBuild) {
			b.fmt = "android-key"
			b.envelope = func(m map[string]any) { m["attStmt"] = map[string]any{"alg": -7, "sig": []byte{1}} }
		}, nil),

		attCase("chain to another root", ReasonChainUntrusted, nil, func(e *Expect, _ *time.Time) {
			e.Roots = x509.NewCertPool()
			e.Roots.AddCert(pki().receiptRoot.cert)
		}),
		attCase("leaf under an unknown CA", ReasonChainUntrusted, func(b *attBuild) { c := other(); b.issuer = &c }, nil),
		attCase("extra certificate in x5c", ReasonChainUntrusted, func(b *attBuild) { b.x5cExtra = [][]byte{pki().receiptRoot.cert.Raw} }, nil),
		attCase("certificates never valid together", ReasonChainUntrusted, func(b *attBuild) {
			b.leafFrom, b.leafUntil = synthTime.AddDate(11, 0, 0), synthTime.AddDate(12, 0, 0)
		}, nil),
		attCase("before the leaf", ReasonCertNotYetValid, nil, func(_ *Expect, at *time.Time) { *at = synthTime.Add(-25 * time.Hour) }),
		attCase("after the leaf", ReasonCertExpired, nil, func(_ *Expect, at *time.Time) { *at = synthTime.Add(49 * time.Hour) }),
		attCase("root expired, leaf valid", ReasonCertExpired, func(b *attBuild) {
			root := newCA("Short Root", nil, synthTime.AddDate(-1, 0, 0), synthTime.Add(-time.Hour))
			inter := newCA("Inter", &root, synthTime.AddDate(-1, 0, 0), synthTime.AddDate(1, 0, 0))
			b.issuer = &inter
			b.pki = &testPKI{roots: x509.NewCertPool(), receiptRoots: b.pki.receiptRoots}
			b.pki.roots.AddCert(root.cert)
		}, nil),
		attCase("other challenge", ReasonNonceMismatch, nil, func(e *Expect, _ *time.Time) { e.ClientDataHash = []byte("another challenge") }),
		attCase("nonce of other authData", ReasonNonceMismatch, func(b *attBuild) { b.nonce = sha256Sum([]byte("x")) }, nil),
		attCase("no nonce extension", ReasonNonceMismatch, func(b *attBuild) {
			b.exts = []pkix.Extension{{Id: asn1.ObjectIdentifier{1, 2, 3}, Value: []byte{5, 0}}}
		}, nil),
		attCase("nonce extension not DER", ReasonNonceMismatch, func(b *attBuild) { b.exts = []pkix.Extension{{Id: oidNonce, Value: []byte{4, 0}}} }, nil),
		attCase("other key id from the app", ReasonKeyIDMismatch, nil, func(e *Expect, _ *time.Time) { e.KeyID = make([]byte, 32) }),
		attCase("credential id not the key's", ReasonKeyIDMismatch, func(b *attBuild) { b.credID = make([]byte, 32) }, nil),
		attCase("COSE key of another key", ReasonPublicKeyMismatch, func(b *attBuild) {
			p, _ := newKey().PublicKey.Bytes()
			b.cose = map[int]any{1: 2, 3: -7, -1: 1, -2: p[1:33], -3: p[33:]}
		}, nil),
		attCase("COSE key not ES256", ReasonPublicKeyMismatch, func(b *attBuild) {
			p := b.point()
			b.cose = map[int]any{1: 2, 3: -35, -1: 1, -2: p[1:33], -3: p[33:]}
		}, nil),
		attCase("other app", ReasonRPIDMismatch, nil, func(e *Expect, _ *time.Time) { e.BundleID = "com.example.other" }),
		attCase("counter 1", ReasonCounterNotZero, func(b *attBuild) { b.counter = 1 }, nil),
		attCase("unknown AAGUID", ReasonBadAAGUID, func(b *attBuild) { b.aaguid = []byte("appattestdevelo\x00") }, nil),
		attCase("development not allowed by default", ReasonEnvironmentNotAllowed, func(b *attBuild) { b.aaguid = aaguidDevelopment },
			func(e *Expect, _ *time.Time) { e.Environments = nil }),
		attCase("production not allowed", ReasonEnvironmentNotAllowed, nil, func(e *Expect, _ *time.Time) { e.Environments = []string{Development} }),
		attCase("receipt under another root", ReasonReceiptInvalid, nil, func(e *Expect, _ *time.Time) { e.ReceiptRoots = pki().roots }),
		attCase("receipt of another app", ReasonReceiptInvalid, func(b *attBuild) {
			b.receipt = newReceiptBuild()
			b.receipt.fields[fieldAppID] = []byte(synthTeam + ".com.example.other")
		}, nil),
		attCase("receipt of another certificate", ReasonReceiptInvalid, func(b *attBuild) {
			b.receipt = newReceiptBuild()
			b.receipt.fields[fieldCertificate] = pki().receiptSigner.cert.Raw
		}, nil),
		attCase("receipt of another client hash", ReasonReceiptInvalid, func(b *attBuild) {
			b.receipt = newReceiptBuild()
			b.receipt.fields[fieldClientHash] = []byte("x")
		}, nil),
		attCase("receipt of type RECEIPT", ReasonReceiptInvalid, func(b *attBuild) {
			b.receipt = newReceiptBuild()
			b.receipt.fields[fieldType] = []byte(ReceiptTypeReceipt)
			b.receipt.fields[fieldRiskMetric] = []byte("1")
		}, nil),
		attCase("receipt not CMS", ReasonReceiptInvalid, func(b *attBuild) {
			b.envelope = func(m map[string]any) { m["attStmt"].(map[string]any)["receipt"] = []byte{1} }
		}, nil),

		rcptCase("valid", "", nil, nil),
		rcptCase("valid RECEIPT", "", func(r *receiptBuild) {
			r.fields[fieldType] = []byte(ReceiptTypeReceipt)
			r.fields[fieldRiskMetric] = []byte("3")
			r.fields[fieldNotBefore] = []byte(synthTime.Format(time.RFC3339))
		}, nil),
		rcptCase("valid with signed attributes", "", func(r *receiptBuild) { r.withAttr = true }, nil),
		rcptCase("valid with an unknown field", "", func(r *receiptBuild) { r.extra = [][2]any{{99, []byte("x")}} }, nil),
		rcptCase("zero time", ReasonInvalidExpectation, nil, func(_ *[]byte, at *time.Time) { *at = time.Time{} }),
		rcptCase("too large", ReasonTooLarge, nil, func(raw *[]byte, _ *time.Time) { *raw = make([]byte, MaxReceiptSize+1) }),
		rcptCase("not CMS", ReasonMalformed, nil, func(raw *[]byte, _ *time.Time) { *raw = []byte{0x30, 0x03, 0x02, 0x01, 0x01} }),
		rcptCase("empty", ReasonMalformed, nil, func(raw *[]byte, _ *time.Time) { *raw = nil }),
		rcptCase("two signers", ReasonMalformed, func(r *receiptBuild) { r.signers = 2 }, nil),
		rcptCase("SHA-1", ReasonMalformed, func(r *receiptBuild) {
			r.digest, r.sigAlg = pkcs7.OIDDigestAlgorithmSHA1, pkcs7.OIDDigestAlgorithmECDSASHA1
		}, nil),
		rcptCase("digest disagrees with signature", ReasonMalformed, func(r *receiptBuild) { r.digest = pkcs7.OIDDigestAlgorithmSHA512 }, nil),
		rcptCase("payload not a SET", ReasonMalformed, func(r *receiptBuild) { r.rawPayload = []byte{0x04, 0x00} }, nil),
		rcptCase("payload entry of four elements", ReasonMalformed, func(r *receiptBuild) {
			r.rawPayload = []byte{0x31, 0x0b, 0x30, 0x09, 0x02, 0x01, 0x02, 0x02, 0x01, 0x01, 0x04, 0x01, 0x41, 0x05, 0x00}
		}, nil),
		rcptCase("missing app id", ReasonMalformed, func(r *receiptBuild) { r.fields[fieldAppID] = nil }, nil),
		rcptCase("missing expiration", ReasonMalformed, func(r *receiptBuild) { r.fields[fieldExpirationTime] = nil }, nil),
		rcptCase("unknown type", ReasonMalformed, func(r *receiptBuild) { r.fields[fieldType] = []byte("ATTESTX") }, nil),
		rcptCase("RECEIPT without risk metric", ReasonMalformed, func(r *receiptBuild) { r.fields[fieldType] = []byte(ReceiptTypeReceipt) }, nil),
		rcptCase("duplicate field", ReasonMalformed, func(r *receiptBuild) { r.extra = [][2]any{{fieldAppID, []byte("x")}} }, nil),
		rcptCase("bad time", ReasonMalformed, func(r *receiptBuild) { r.fields[fieldCreationTime] = []byte("yesterday") }, nil),
		rcptCase("negative risk metric", ReasonMalformed, func(r *receiptBuild) {
			r.fields[fieldType] = []byte(ReceiptTypeReceipt)
			r.fields[fieldRiskMetric] = []byte("-1")
		}, nil),
		rcptCase("certificate not DER", ReasonMalformed, func(r *receiptBuild) { r.fields[fieldCertificate] = []byte{0x30} }, nil),
		rcptCase("certificate key P-384", ReasonMalformed, func(r *receiptBuild) {
			p := pki()
			r.fields[fieldCertificate] = newLeaf("x", p.inter, &p384Key().PublicKey, synthTime, synthTime.Add(time.Hour), nil).cert.Raw
		}, nil),
		rcptCase("only the signer's certificate", ReasonChainUntrusted, func(r *receiptBuild) { r.chain = nil }, nil),
		rcptCase("chain to another root", ReasonChainUntrusted, func(r *receiptBuild) {
			r.signer = newLeaf("s", pki().inter, nil, synthTime.AddDate(-1, 0, 0), synthTime.AddDate(1, 0, 0), receiptSignerExt)
			r.chain = []*x509.Certificate{pki().inter.cert}
		}, nil),
		rcptCase("signer not marked as a receipt signer", ReasonChainUntrusted, func(r *receiptBuild) {
			r.signer = newLeaf("s", pki().rInter, nil, synthTime.AddDate(-1, 0, 0), synthTime.AddDate(1, 0, 0), nil)
		}, nil),
		rcptCase("unrelated certificate in the set", ReasonChainUntrusted, func(r *receiptBuild) { r.chain = append(r.chain, pki().root.cert) }, nil),
		rcptCase("before the signer", ReasonCertNotYetValid, nil, func(_ *[]byte, at *time.Time) { *at = synthTime.AddDate(-6, 0, 0) }),
		rcptCase("after the signer", ReasonCertExpired, nil, func(_ *[]byte, at *time.Time) { *at = synthTime.AddDate(11, 0, 0) }),
		rcptCase("expired, with an unrelated certificate", ReasonChainUntrusted, func(r *receiptBuild) { r.chain = append(r.chain, pki().root.cert) },
			func(_ *[]byte, at *time.Time) { *at = synthTime.AddDate(11, 0, 0) }),
		rcptCase("signature tampered", ReasonBadSignature, nil, func(raw *[]byte, _ *time.Time) { *raw = flip(*raw, len(*raw)-3) }),
		rcptCase("payload tampered", ReasonBadSignature, nil, func(raw *[]byte, _ *time.Time) {
			i := bytes.Index(*raw, []byte("dGVzdCB0b2tlbg=="))
			*raw = flip(*raw, i)
		}),
		rcptCase("expired receipt", ReasonReceiptExpired, nil, func(_ *[]byte, at *time.Time) { *at = synthTime.AddDate(0, 0, 91) }),

		asrCase("valid", "", nil, nil),
		asrCase("valid with trailing authenticator data", "", func(key *ecdsa.PrivateKey) []byte {
			rp := sha256Sum([]byte(synthTeam + "." + synthBundle))
			ad := append(append(rp, 0, 0, 0, 0, 5), 0xa0)
			return signAssertion(key, ad, []byte("hello"), nil)
		}, nil),
		asrCase("no client data", ReasonInvalidExpectation, nil, func(e *AssertionExpect) { e.ClientData = nil }),
		asrCase("no team", ReasonInvalidExpectation, nil, func(e *AssertionExpect) { e.TeamID = "" }),
		asrCase("stored key not PKIX", ReasonInvalidExpectation, nil, func(e *AssertionExpect) { e.PublicKey = []byte{1, 2} }),
		asrCase("stored key P-384", ReasonInvalidExpectation, nil, func(e *AssertionExpect) { e.PublicKey = pkixKey(&p384Key().PublicKey) }),
		asrCase("too large", ReasonTooLarge, func(_ *ecdsa.PrivateKey) []byte { return make([]byte, MaxAssertionSize+1) }, nil),
		asrCase("not CBOR", ReasonMalformed, func(_ *ecdsa.PrivateKey) []byte { return []byte{0xff} }, nil),
		asrCase("no signature", ReasonMalformed, func(key *ecdsa.PrivateKey) []byte {
			return signAssertion(key, make([]byte, 37), []byte("hello"), func(m map[string]any) { delete(m, "signature") })
		}, nil),
		asrCase("unknown key", ReasonMalformed, func(key *ecdsa.PrivateKey) []byte {
			return signAssertion(key, make([]byte, 37), []byte("hello"), func(m map[string]any) { m["x"] = 1 })
		}, nil),
		asrCase("authenticator data short", ReasonMalformed, func(key *ecdsa.PrivateKey) []byte {
			return signAssertion(key, make([]byte, 36), []byte("hello"), nil)
		}, nil),
		asrCase("other client data", ReasonBadSignature, nil, func(e *AssertionExpect) { e.ClientData = []byte("hellO") }),
		asrCase("other key", ReasonBadSignature, nil, func(e *AssertionExpect) { e.PublicKey = pkixKey(&newKey().PublicKey) }),
		asrCase("signature over the raw nonce", ReasonBadSignature, func(key *ecdsa.PrivateKey) []byte {
			rp := sha256Sum([]byte(synthTeam + "." + synthBundle))
			ad := append(rp, 0, 0, 0, 0, 5)
			sig, _ := ecdsa.SignASN1(rand.Reader, key, sha256Sum(ad, sha256Sum([]byte("hello"))))
			return mustCBOR(map[string]any{"signature": sig, "authenticatorData": ad})
		}, nil),
		asrCase("other app", ReasonRPIDMismatch, nil, func(e *AssertionExpect) { e.BundleID = "com.example.other" }),
		asrCase("replayed", ReasonCounterNotIncreased, nil, func(e *AssertionExpect) { e.PreviousCounter = 5 }),
		asrCase("stored counter ahead", ReasonCounterNotIncreased, nil, func(e *AssertionExpect) { e.PreviousCounter = 1 << 33 }),
	}
}

func TestReasons(t *testing.T) {
	for _, c := range reasonCases() {
		t.Run(c.name, func(t *testing.T) {
			res := c.run(t)
			if c.want == "" {
				if !res.Valid || res.Reason != "" || len(res.Reasons) != 0 {
					t.Fatalf("want valid, got %v", res.Reasons)
				}
				return
			}
			if res.Valid || res.Reason != c.want || res.Reasons[0] != c.want {
				t.Fatalf("valid=%v reasons=%v, want first %s", res.Valid, res.Reasons, c.want)
			}
			checkOrder(t, res.Reasons)
		})
	}
}

// Every declared reason code is produced by some case, and no case
// produces an undeclared one.
func TestReasonCoverage(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range reasonCases() {
		for _, r := range c.run(t).Reasons {
			seen[r] = true
		}
	}
	for _, r := range Reasons {
		if !seen[r] {
			t.Errorf("reason %s is declared but no case produces it", r)
		}
		if !strings.HasPrefix(r, "appattest.") || !strings.HasPrefix(Message(r), "appattest: ") || Message(r) == Message("x") {
			t.Errorf("reason %s: bad code or message %q", r, Message(r))
		}
	}
	for r := range seen {
		if !slices.Contains(Reasons, r) {
			t.Errorf("undeclared reason %s produced", r)
		}
	}
}

// checkOrder fails unless reasons are distinct and in declaration order.
func checkOrder(t *testing.T, reasons []string) {
	t.Helper()
	last := -1
	for _, r := range reasons {
		i := slices.Index(Reasons, r)
		if i <= last {
			t.Errorf("reasons %v out of the documented order", reasons)
			return
		}
		last = i
	}
}
