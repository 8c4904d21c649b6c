package appattest

import (
	"slices"
	"testing"

	"github.com/drawbridge-gw/drawbridge/internal/attest"
)

// Native fuzz tests of everything that reads attacker bytes. Seeds are the
// real samples (read in place from the vectors, when present) and
// synthetic objects. Run one with, e.g.,
//
//	go test -run '^$' -fuzz '^FuzzParseAttestation$' -fuzztime 60s -fuzzminimizetime 2s ./internal/attest/appattest/
//
// Keep -fuzzminimizetime short: the seeds are 4-6 KiB, and minimizing each
// new input of that size for the default 60s leaves no time to fuzz.
//
// The FuzzParse targets run the parsers alone (CBOR, authenticator data,
// X.509 and CMS decoding, the receipt payload), fast. The FuzzVerify
// targets run the whole verifier against the synthetic P-256 test PKI: a
// real sample's chain to Apple's P-384 roots would make each run cost
// seconds under the fuzzer's coverage instrumentation. The real chains are
// walked byte by byte by the flip tests instead.

// seedAttestations are the real attestations and synthetic ones.
func seedAttestations(f *testing.F) {
	f.Add(newAttBuild().bytes())
	dev := newAttBuild()
	dev.aaguid, dev.flags = aaguidDevelopment, flagAttested|flagExtensions
	dev.tail = mustCBOR(map[string]any{"apple_bundle_version_01": "2"})
	f.Add(dev.bytes())
	if dir := vectorsDir(f); dir != "" {
		for _, v := range attestationVectors(f, dir) {
			f.Add(v.raw(f))
		}
	}
}

func seedReceipts(f *testing.F) {
	rb := newReceiptBuild()
	rb.defaults(pki().receiptSigner.cert.Raw, synthTeam+"."+synthBundle, []byte("c"))
	f.Add(rb.bytes())
	if dir := vectorsDir(f); dir != "" {
		for _, v := range receiptVectors(f, dir) {
			for _, r := range v.Receipts {
				f.Add(b64(f, r.B64))
			}
		}
	}
}

// checkVerdict fails on an inconsistent result.
func checkVerdict(t *testing.T, res attest.Result) {
	t.Helper()
	if res.Valid != (len(res.Reasons) == 0) || (res.Reason == "") != res.Valid {
		t.Fatalf("inconsistent result %+v", res)
	}
	if !res.Valid && res.Reason != res.Reasons[0] {
		t.Fatalf("Reason %s is not Reasons[0] of %v", res.Reason, res.Reasons)
	}
	for _, r := range res.Reasons {
		if !slices.Contains(Reasons, r) {
			t.Fatalf("undeclared reason %s", r)
		}
	}
	checkOrder(t, res.Reasons)
}

func FuzzParseAttestation(f *testing.F) {
	seedAttestations(f)
	f.Fuzz(func(t *testing.T, att []byte) {
		a, reason := parseAttestation(att)
		if reason != "" {
			return
		}
		if len(a.certs) == 0 || len(a.certs) > maxCerts || len(a.certKey) != 65 || len(a.receipt) == 0 ||
			len(a.authData.rpIDHash) != 32 || len(a.authData.aaguid) != 16 || len(a.authData.credID) == 0 {
			t.Fatalf("parsed with wrong shapes")
		}
		_ = nonceMatches(a.certs[0], make([]byte, 32))
		_ = a.authData.credKey.uncompressed()
		_ = a.authData.appVersion()
	})
}

func FuzzParseReceipt(f *testing.F) {
	seedReceipts(f)
	f.Fuzz(func(t *testing.T, der []byte) {
		var rc Receipt
		p7, signer, reason := parseReceipt(der, &rc)
		if reason != "" {
			return
		}
		if p7 == nil || signer == nil || (rc.Type != ReceiptTypeAttest && rc.Type != ReceiptTypeReceipt) ||
			rc.AppID == "" || len(rc.PublicKey) == 0 || rc.CreationTime.IsZero() || rc.ExpirationTime.IsZero() {
			t.Fatalf("parsed with missing fields: %+v", rc)
		}
	})
}

// The authenticator data, nonce extension and receipt payload parsers on
// raw bytes, without the layers around them.
func FuzzParseFields(f *testing.F) {
	b := newAttBuild()
	f.Add(b.authData(), true)
	b.tail = mustCBOR(map[string]any{"apple_bundle_version_01": "1", "apple_validation_category_01": []byte{1, 0, 0, 0}})
	f.Add(b.authData(), true)
	f.Add(make([]byte, 37), false)
	f.Add(nonceExtension(make([]byte, 32)).Value, false)
	rb := newReceiptBuild()
	rb.defaults(pki().receiptSigner.cert.Raw, "A.b", []byte("c"))
	f.Add(rb.payload(), false)
	f.Fuzz(func(t *testing.T, b []byte, attested bool) {
		ad, err := parseAuthData(b, attested)
		if err == nil && (len(ad.rpIDHash) != 32 || (attested && (len(ad.aaguid) != 16 || len(ad.credID) == 0))) {
			t.Fatalf("accepted with wrong shapes: %+v", ad)
		}
		_ = ad.credKey.uncompressed()
		_ = ad.appVersion()
		_, _ = parseNonceExtension(b)
		var rc Receipt
		_ = parseReceiptPayload(b, &rc)
	})
}

func FuzzVerifyAttestation(f *testing.F) {
	seedAttestations(f)
	exp := newAttBuild().expect()
	exp.KeyID = nil
	f.Fuzz(func(t *testing.T, att []byte) {
		checkVerdict(t, VerifyAttestation(att, exp, synthTime))
	})
}

func FuzzVerifyReceipt(f *testing.F) {
	seedReceipts(f)
	f.Fuzz(func(t *testing.T, der []byte) {
		rc, res := VerifyReceipt(der, synthTime, pki().receiptRoots)
		checkVerdict(t, res)
		if res.Valid && rc.Type != ReceiptTypeAttest && rc.Type != ReceiptTypeReceipt {
			t.Fatalf("valid receipt of type %q", rc.Type)
		}
	})
}

func FuzzVerifyAssertion(f *testing.F) {
	key := newKey()
	exp := AssertionExpect{
		TeamID: synthTeam, BundleID: synthBundle, ClientData: []byte("hello"),
		PublicKey: pkixKey(&key.PublicKey), PreviousCounter: 4,
	}
	f.Add(assertion(key, synthTeam+"."+synthBundle, 5, []byte("hello")))
	var real []AssertionExpect
	if dir := vectorsDir(f); dir != "" {
		for _, v := range assertionVectors(f, dir) {
			f.Add(v.raw(f))
			real = append(real, v.expect(f))
		}
	}
	f.Fuzz(func(t *testing.T, a []byte) {
		checkVerdict(t, VerifyAssertion(a, exp))
		for _, e := range real {
			checkVerdict(t, VerifyAssertion(a, e))
		}
	})
}
