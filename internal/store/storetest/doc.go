// Package storetest is the conformance suite every store backend passes,
// in the manner of testing/fstest: a backend's own test calls TestHot or
// TestDurable with a function that opens a fresh, empty store, and the
// suite checks the contract documented in package store.
//
//	func TestConformance(t *testing.T) {
//		storetest.TestHot(t, func(t *testing.T) store.Hot {
//			h := memory.NewHot(memory.HotOptions{})
//			t.Cleanup(func() { h.Close() })
//			return h
//		})
//	}
//
// open is called once per subtest; the store it returns must be empty and
// must tolerate Close being called both by the suite and by open's own
// cleanup. Some subtests run in parallel with each other, each on its own
// store.
//
// The suite uses real time for expiry, with ttls of 50 to 300
// milliseconds, and checks only what holds under a slow, loaded machine
// (-race on two cores): a key lives at least its ttl and is gone once
// twice its ttl has passed. Backends with an injectable clock check the
// exact boundary in their own tests.
//
// BenchmarkHot and BenchmarkDurable measure the same operations on every
// backend, so their figures compare.
package storetest

import (
	"crypto/rand"
	"encoding/hex"
	"sync"
	"testing"
)

// unique returns a key no other test uses, so that backends sharing one
// server between subtests cannot see each other's keys.
func unique(prefix string) string {
	b := make([]byte, 8)
	rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// race runs f from n goroutines released together, and returns once all
// have finished.
func race(n int, f func(i int)) {
	var start, done sync.WaitGroup
	start.Add(1)
	done.Add(n)
	for i := range n {
		go func() {
			defer done.Done()
			start.Wait()
			f(i)
		}()
	}
	start.Done()
	done.Wait()
}

// must fails t if err is not nil.
func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
