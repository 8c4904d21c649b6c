package httpsig_test

import (
	"testing"

	"github.com/drawbridge-gw/drawbridge/internal/httpsig"
)

// benchmarkVerify verifies the typical request signed with the default
// components (@method, @authority, @path, @query, content-digest), its
// Content-Digest checked against the body.
func benchmarkVerify(b *testing.B, key httpsig.SigningKey, keyID string) {
	s := &httpsig.Signer{Key: key, KeyID: keyID, Now: at(testNow), IncludeAlg: true}
	msg := mustSign(b, s, httpsig.Message{Request: typicalRequest()}, nil)
	ver := &httpsig.Verifier{Keys: testKeys(), Now: at(testNow)}
	ctx := b.Context()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ver.Verify(ctx, msg); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyHMACSHA256(b *testing.B) {
	benchmarkVerify(b, httpsig.SigningKey{Algorithm: httpsig.HMACSHA256, Secret: testHMAC}, "mac")
}

func BenchmarkVerifyEd25519(b *testing.B) {
	benchmarkVerify(b, httpsig.SigningKey{Algorithm: httpsig.Ed25519, Private: testEd}, "ed")
}
