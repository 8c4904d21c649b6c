package appattest

import "testing"

// Attestation and assertion verifications per second on real samples, one
// goroutine (the Verify benchmarks) and all cores (the Parallel ones):
//
//	go test -run '^$' -bench . ./internal/attest/appattest/

func BenchmarkVerifyAttestation(b *testing.B) {
	dir := needVectors(b)
	for _, v := range attestationVectors(b, dir) {
		if v.Name != "apple-doc-guide-2026-attestation" && v.Name != "veehaitch-ios-14.4-attestation" {
			continue
		}
		raw, exp, at := v.raw(b), v.expect(b), v.VerifiedAt
		b.Run(v.Name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if res := VerifyAttestation(raw, exp, at); !res.Valid {
					b.Fatal(res.Reasons)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "verifications/s")
		})
	}
}

func BenchmarkVerifyAssertion(b *testing.B) {
	dir := needVectors(b)
	for _, v := range assertionVectors(b, dir) {
		if v.Name != "bas-d-assertion" && v.Name != "veehaitch-ios-14.4-assertion" {
			continue
		}
		raw, exp := v.raw(b), v.expect(b)
		b.Run(v.Name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if res := VerifyAssertion(raw, exp); !res.Valid {
					b.Fatal(res.Reasons)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "verifications/s")
		})
	}
}

func BenchmarkVerifyReceipt(b *testing.B) {
	dir := needVectors(b)
	f := receiptVectors(b, dir)[0]
	r := f.Receipts[len(f.Receipts)-1]
	raw := b64(b, r.B64)
	b.ReportAllocs()
	for b.Loop() {
		if _, res := VerifyReceipt(raw, r.Timestamp, nil); !res.Valid {
			b.Fatal(res.Reasons)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "verifications/s")
}

func BenchmarkVerifyAttestationParallel(b *testing.B) {
	dir := needVectors(b)
	v := attestationVectors(b, dir)[0]
	raw, exp, at := v.raw(b), v.expect(b), v.VerifiedAt
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if res := VerifyAttestation(raw, exp, at); !res.Valid {
				b.Error(res.Reasons)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "verifications/s")
}

func BenchmarkVerifyAssertionParallel(b *testing.B) {
	dir := needVectors(b)
	v := assertionVectors(b, dir)[0]
	raw, exp := v.raw(b), v.expect(b)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if res := VerifyAssertion(raw, exp); !res.Valid {
				b.Error(res.Reasons)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "verifications/s")
}
