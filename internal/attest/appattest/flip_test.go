package appattest

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/drawbridge-gw/drawbridge/internal/attest"
	"github.com/google/go-cmp/cmp"
)

// One flipped byte anywhere in a real sample must be refused, unless the
// byte is covered by no signature and carries no meaning this package
// uses. Those bytes are all in the receipt's CMS envelope; unsignedCMS is
// the complete list of where they may be. A flip there must leave the
// verdict's meaning unchanged: the same facts, the same receipt fields.
// The CBOR envelope has no such byte: every flip there breaks the strict
// decoding (allow-listed keys, exact types, no trailing data), and
// authData, the certificates and the receipt's content and signature are
// signed.
//
// By default every byte of every sample's envelope and authData is
// flipped, and of the rest a stride that moves from sample to sample (every
// byte of the Apple 2026 sample); under -race or -short fewer. With
// DRAWBRIDGE_FLIP_FULL=1 every byte of every sample is flipped three ways.

// unsignedCMS lists the receipt bytes that no signature covers and that
// pkcs7 (and so this package) ignores or re-derives. Paths name BER
// elements from the ContentInfo ("r") by child index: r.1.0 is
// SignedData, r.1.0.0 its version, r.1.0.1 digestAlgorithms, r.1.0.2
// encapContentInfo, r.1.0.4 signerInfos. A trailing * matches the element
// and everything below it.
var unsignedCMS = []struct {
	path, part, why string
}{
	{"r", "len", "ContentInfo length: pkcs7's ber2der re-derives lengths from the contents"},
	{"r.1", "len", "[0] content length: re-derived"},
	{"r.1.0", "len", "SignedData length: re-derived"},
	{"r.1.0.0*", "*", "SignedData.version: not signed, not read by pkcs7"},
	{"r.1.0.1*", "*", "SignedData.digestAlgorithms: not signed; the SignerInfo's digest algorithm (pinned to the signature algorithm) is the one used"},
	{"r.1.0.2.0*", "*", "eContentType (id-data): not signed when there are no signed attributes, as in Apple's receipts; not checked by pkcs7"},
	{"r.1.0.2.1", "len", "[0] eContent length: re-derived"},
	{"r.1.0.2.1.0", "tag", "eContent OCTET STRING tag: pkcs7 takes the content whatever the tag"},
	{"r.1.0.2.1.0.*", "tag", "tags of the BER chunks of the eContent: pkcs7 concatenates the chunks' contents whatever their tags"},
	{"r.1.0.4", "len", "signerInfos SET length: re-derived"},
	{"r.1.0.4.0", "len", "SignerInfo length: re-derived"},
}

func unsignedCMSEntry(label berLabel) (string, bool) {
	for _, u := range unsignedCMS {
		pathOK := u.path == label.path ||
			(strings.HasSuffix(u.path, "*") && strings.HasPrefix(label.path, strings.TrimSuffix(u.path, "*")))
		if pathOK && (u.part == "*" || u.part == label.part) {
			return u.path + " " + u.part, true
		}
	}
	return "", false
}

// meaning is what a valid verdict says, without the raw receipt bytes.
type meaning struct {
	Facts   attest.Facts
	Receipt Receipt
}

func attestationMeaning(res attest.Result, at time.Time) meaning {
	rc, _ := VerifyReceipt(res.Facts.Receipt, at, nil)
	rc.Raw = nil
	f := res.Facts
	f.Receipt = nil
	return meaning{Facts: f, Receipt: rc}
}

func receiptMeaning(rc Receipt, res attest.Result) meaning {
	rc.Raw = nil
	return meaning{Facts: res.Facts, Receipt: rc}
}

type flipPlan struct {
	dense, rest int    // strides through the envelope and authData, and through the rest
	masks       []byte // XOR masks; nil: one bit, moving with the offset
}

func planFor(name string) flipPlan {
	switch {
	case os.Getenv("DRAWBRIDGE_FLIP_FULL") == "1":
		return flipPlan{dense: 1, rest: 1, masks: []byte{0x01, 0x80, 0xff}}
	case raceEnabled || testing.Short():
		return flipPlan{dense: 23, rest: 311}
	case strings.HasPrefix(name, "apple-doc-guide-2026"):
		return flipPlan{dense: 1, rest: 1}
	default:
		return flipPlan{dense: 1, rest: 13}
	}
}

// flipOffsets returns the offsets to flip: a stride through the dense
// bytes and another through the rest, both starting at phase.
func flipOffsets(n int, dense func(int) bool, p flipPlan, phase int) []int {
	var out []int
	for i := range n {
		stride := p.rest
		if dense(i) {
			stride = p.dense
		}
		if (i+phase)%stride == 0 {
			out = append(out, i)
		}
	}
	return out
}

func masksAt(p flipPlan, i int) []byte {
	if p.masks != nil {
		return p.masks
	}
	return []byte{1 << (i % 8)}
}

func TestFlipRealAttestations(t *testing.T) {
	dir := needVectors(t)
	for n, v := range attestationVectors(t, dir) {
		t.Run(v.Name, func(t *testing.T) {
			t.Parallel()
			raw, exp, at := v.raw(t), v.expect(t), v.VerifiedAt
			base := VerifyAttestation(raw, exp, at)
			if !base.Valid {
				t.Fatalf("baseline not valid: %v", base.Reasons)
			}
			want := attestationMeaning(base, at)
			var obj attestationObject
			if err := dec.Unmarshal(raw, &obj); err != nil {
				t.Fatal(err)
			}
			rcOff := bytes.Index(raw, base.Facts.Receipt)
			labels, err := labelBER(base.Facts.Receipt)
			if err != nil {
				t.Fatalf("labelling the receipt: %v", err)
			}
			region := regions(t, raw)
			inReceipt := func(i int) bool { return region[i] == "receipt" }
			dense := func(i int) bool { return region[i] == "envelope" || region[i] == "authData" }

			p := planFor(v.Name)
			tolerated := map[string]int{}
			refused := map[string]int{}
			flips := 0
			for _, i := range flipOffsets(len(raw), dense, p, n) {
				for _, mask := range masksAt(p, i) {
					flips++
					m := bytes.Clone(raw)
					m[i] ^= mask
					res := VerifyAttestation(m, exp, at)
					if !res.Valid {
						refused[res.Reason]++
						continue
					}
					if !inReceipt(i) {
						t.Errorf("flip %#02x at %d (outside the receipt) accepted", mask, i)
						continue
					}
					entry, ok := unsignedCMSEntry(labels[i-rcOff])
					if !ok {
						t.Errorf("flip %#02x at %d (receipt %s %s) accepted, not in unsignedCMS", mask, i, labels[i-rcOff].path, labels[i-rcOff].part)
					}
					if d := cmp.Diff(want, attestationMeaning(res, at)); d != "" {
						t.Errorf("flip %#02x at %d accepted WITH A CHANGED MEANING (-want +got):\n%s", mask, i, d)
					}
					tolerated[entry]++
				}
			}
			t.Logf("%d flips: refused %v; tolerated (unsigned CMS bytes, same meaning) %v", flips, refused, tolerated)
		})
	}
}

func TestFlipRealReceipts(t *testing.T) {
	dir := needVectors(t)
	n := 0
	for _, f := range receiptVectors(t, dir) {
		for k, r := range f.Receipts {
			n++
			t.Run(fmt.Sprintf("%s/%d", f.Name, k), func(t *testing.T) {
				t.Parallel()
				raw := b64(t, r.B64)
				rc, base := VerifyReceipt(raw, r.Timestamp, nil)
				if !base.Valid {
					t.Fatalf("baseline not valid: %v", base.Reasons)
				}
				want := receiptMeaning(rc, base)
				labels, err := labelBER(raw)
				if err != nil {
					t.Fatalf("labelling: %v", err)
				}
				p := planFor(f.Name)
				if p.rest == 1 && p.masks == nil {
					p.rest = 13 // the full walk of the 2026 sample is for attestations
				}
				tolerated := map[string]int{}
				flips := 0
				for _, i := range flipOffsets(len(raw), func(int) bool { return false }, p, n) {
					for _, mask := range masksAt(p, i) {
						flips++
						m := bytes.Clone(raw)
						m[i] ^= mask
						got, res := VerifyReceipt(m, r.Timestamp, nil)
						if !res.Valid {
							continue
						}
						entry, ok := unsignedCMSEntry(labels[i])
						if !ok {
							t.Errorf("flip %#02x at %d (%s %s) accepted, not in unsignedCMS", mask, i, labels[i].path, labels[i].part)
						}
						if d := cmp.Diff(want, receiptMeaning(got, res)); d != "" {
							t.Errorf("flip %#02x at %d accepted WITH A CHANGED MEANING (-want +got):\n%s", mask, i, d)
						}
						tolerated[entry]++
					}
				}
				t.Logf("%d flips, tolerated %v", flips, tolerated)
			})
		}
	}
}

// Every byte of every real assertion, every bit.
func TestFlipRealAssertions(t *testing.T) {
	dir := needVectors(t)
	for _, v := range assertionVectors(t, dir) {
		t.Run(v.Name, func(t *testing.T) {
			raw, exp := v.raw(t), v.expect(t)
			for i := range raw {
				masks := []byte{1, 2, 4, 8, 16, 32, 64, 128}
				if raceEnabled || testing.Short() {
					masks = masksAt(flipPlan{}, i)
				}
				for _, mask := range masks {
					m := bytes.Clone(raw)
					m[i] ^= mask
					if res := VerifyAssertion(m, exp); res.Valid {
						t.Errorf("flip %#02x at %d accepted", mask, i)
					}
				}
			}
		})
	}
}

// regions names the part of the attestation each byte is in: envelope
// (the CBOR outside the byte strings' contents), authData, x5c, receipt.
func regions(t *testing.T, raw []byte) []string {
	t.Helper()
	var obj attestationObject
	var st appleStatement
	if dec.Unmarshal(raw, &obj) != nil || dec.Unmarshal(obj.AttStmt, &st) != nil {
		t.Fatal("sample does not decode")
	}
	out := make([]string, len(raw))
	for i := range out {
		out[i] = "envelope"
	}
	mark := func(part []byte, name string) {
		k := bytes.Index(raw, part)
		if k < 0 {
			t.Fatalf("%s not found in the sample", name)
		}
		for i := k; i < k+len(part); i++ {
			out[i] = name
		}
	}
	mark(obj.AuthData, "authData")
	for _, c := range st.X5C {
		mark(c, "x5c")
	}
	mark(st.Receipt, "receipt")
	return out
}
