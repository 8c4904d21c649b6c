package playintegrity

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/drawbridge-gw/drawbridge/internal/attest/playintegrity/playintegritytest"
)

func FuzzParsePayload(f *testing.F) {
	at := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	d := playintegritytest.Digest("cert")
	valid, _ := json.Marshal(playintegritytest.NewVerdict("com.example", d, d, 3, at))
	f.Add(valid)
	f.Add([]byte(`{"requestDetails":{"requestPackageName":"a","nonce":"x","timestampMillis":1},"appIntegrity":{"appRecognitionVerdict":"UNEVALUATED"},"deviceIntegrity":{}}`))
	f.Add([]byte(`{"requestDetails":{},"requestDetails":{}}`))
	f.Add([]byte(`{"a":[{"b":{"c":[1,2,{"d":null}]}}]}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"x":"\ud800"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		v, reason := parsePayload(b)
		if (v == nil) == (reason == "") {
			t.Fatalf("verdict %v reason %q", v, reason)
		}
		switch reason {
		case "", ReasonMalformedPayload, ReasonDuplicateKey:
		default:
			t.Fatalf("reason %q", reason)
		}
		if v != nil {
			if !label(v.appVerdict) || !labels(v.deviceLabels) || len(v.deviceLabels) > maxListItems || len(v.certDigests) > maxListItems {
				t.Fatalf("unchecked verdict %+v", v)
			}
		}
	})
}

// TestParsePayloadDuplicatesAnywhere checks that a member named twice is
// refused at any depth, even inside members the checks never read.
func TestParsePayloadDuplicatesAnywhere(t *testing.T) {
	for _, b := range []string{
		`{"a":1,"a":1}`,
		`{"environmentDetails":{"playProtectVerdict":"NO_ISSUES","playProtectVerdict":"NO_ISSUES"}}`,
		`{"x":[{"y":{"z":1,"z":2}}]}`,
	} {
		if _, reason := parsePayload([]byte(b)); reason != ReasonDuplicateKey {
			t.Errorf("%s: %q", b, reason)
		}
	}
	// Names differing only in case are two members, and only the exact
	// name is read.
	b := `{"requestDetails":{"requestPackageName":"a","REQUESTPACKAGENAME":"b","nonce":"n","timestampMillis":"1"},` +
		`"appIntegrity":{"appRecognitionVerdict":"UNEVALUATED"},"deviceIntegrity":{}}`
	v, reason := parsePayload([]byte(b))
	if reason != "" || v.requestPackage != "a" {
		t.Errorf("case variants: %q %+v", reason, v)
	}
}
