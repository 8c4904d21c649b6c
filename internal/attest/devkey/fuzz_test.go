package devkey_test

import (
	"encoding/json"
	"slices"
	"testing"

	"golang.org/x/crypto/cryptobyte"

	"github.com/drawbridge-gw/drawbridge/internal/attest/devkey"
)

// Native fuzz tests of the evidence's two parsers: the JSON wire form and
// the chain and signature bytes (through Verify).

func FuzzParseEvidence(f *testing.F) {
	ev := evidence(f)
	b, _ := json.Marshal(ev)
	f.Add(b)
	f.Add([]byte(`{"certificate_chain":[],"signature":""}`))
	f.Add([]byte(`{"certificate_chain":["AAAA"],"signature":"AA","signature":"AA"}`))
	f.Add([]byte(`{"certificate_chain":null}`))
	f.Add([]byte(`[{}]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		ev, err := devkey.ParseEvidence(b)
		if err != nil {
			if ev.Chain != nil || ev.Signature != nil {
				t.Fatalf("evidence with an error: %+v", ev)
			}
			return
		}
		if len(ev.Chain) > devkey.MaxChainLength {
			t.Fatalf("%d certificates", len(ev.Chain))
		}
		// What parses re-encodes to an equivalent form.
		again, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		ev2, err := devkey.ParseEvidence(again)
		if err != nil || !slices.EqualFunc(ev.Chain, ev2.Chain, func(a, b []byte) bool { return string(a) == string(b) }) || string(ev.Signature) != string(ev2.Signature) {
			t.Fatalf("round trip: %v", err)
		}
	})
}

// encode packs evidence as uint16-length-prefixed parts, the signature
// first: the fuzz input format that lets the fuzzer vary the chain.
func encode(ev devkey.Evidence) []byte {
	var b cryptobyte.Builder
	b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(ev.Signature) })
	for _, c := range ev.Chain {
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(c) })
	}
	out, _ := b.Bytes()
	return out
}

func FuzzVerify(f *testing.F) {
	p := pki(f)
	ev := evidence(f)
	f.Add(encode(ev))
	f.Add(encode(devkey.Evidence{Chain: append(ev.Chain, p.ca.Raw), Signature: ev.Signature}))
	f.Add(encode(devkey.Evidence{Chain: [][]byte{p.ca.Raw}, Signature: []byte{0x30, 0}}))
	f.Add([]byte{})
	v, err := devkey.New(synthPolicy(f))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s := cryptobyte.String(data)
		var in devkey.Evidence
		var sig cryptobyte.String
		if s.ReadUint16LengthPrefixed(&sig) {
			in.Signature = sig
		}
		for !s.Empty() {
			var c cryptobyte.String
			if !s.ReadUint16LengthPrefixed(&c) {
				break
			}
			in.Chain = append(in.Chain, c)
		}
		r := v.Verify(in, synthExpect(), synthNow)
		if r.Valid != (len(r.Reasons) == 0) || r.Valid != (r.Reason == "") || !r.Valid && r.Reason != r.Reasons[0] {
			t.Fatalf("inconsistent result %+v", r)
		}
		last := -1
		for _, code := range r.Reasons {
			i := slices.Index(devkey.Reasons, code)
			if i <= last {
				t.Fatalf("reasons out of order or undeclared: %v", r.Reasons)
			}
			last = i
		}
		if r.Facts.Platform != "dev" || r.Facts.Environment != "development" {
			t.Fatalf("facts %+v", r.Facts)
		}
	})
}
