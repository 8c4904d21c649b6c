package service_test

import (
	"context"
	"testing"

	"github.com/drawbridge-gw/drawbridge/internal/attest/appattest/appattesttest"
)

// The exchange benchmarks measure the service's side of one exchange
// (challenge consumed, evidence verified, device recorded, token signed)
// over memory stores. Building the evidence, which a device does, is
// outside the timer.

func BenchmarkChallenge(b *testing.B) {
	f := newFixture(b)
	ctx := context.Background()
	for b.Loop() {
		if _, err := f.svc.NewChallenge(ctx, appIOS); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkExchangeApple(b *testing.B) {
	f := newFixture(b)
	ctx := context.Background()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		a := f.appleExchange(appIOS, appattesttest.Production, "2.3.1")
		b.StartTimer()
		if _, err := f.svc.ExchangeApple(ctx, &a.req); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkExchangeAppleAssertion(b *testing.B) {
	f := newFixture(b)
	ctx := context.Background()
	a := f.appleExchange(appIOS, appattesttest.Production, "2.3.1")
	a.mustDo()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		req := f.assertion(appIOS, a.att, a.signer, uint32(i+1), "2.3.1")
		b.StartTimer()
		if _, err := f.svc.ExchangeAppleAssertion(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkExchangeAndroid(b *testing.B) {
	f := newFixture(b)
	ctx := context.Background()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		req, _, _ := f.androidExchange(appAndroid, false, nil)
		b.StartTimer()
		if _, err := f.svc.ExchangeAndroid(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
}
