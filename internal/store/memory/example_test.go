package memory_test

import (
	"context"
	"fmt"
	"time"

	"github.com/drawbridge-gw/drawbridge/internal/store/memory"
)

// Claim is the replay guard: the first use of a nonce wins, a replay
// within the ttl does not.
func ExampleHot_Claim() {
	h := memory.NewHot(memory.HotOptions{})
	defer h.Close()
	ctx := context.Background()
	first, _ := h.Claim(ctx, "jti:7c1e2f", 5*time.Minute)
	replay, _ := h.Claim(ctx, "jti:7c1e2f", 5*time.Minute)
	fmt.Println(first, replay)
	// Output: true false
}

// Put and Take carry a one-time value, such as an attestation challenge:
// it can be redeemed once.
func ExampleHot_Take() {
	h := memory.NewHot(memory.HotOptions{})
	defer h.Close()
	ctx := context.Background()
	_ = h.Put(ctx, "challenge:abc", []byte("nonce bytes"), time.Minute)
	v, ok, _ := h.Take(ctx, "challenge:abc")
	fmt.Printf("%s %v\n", v, ok)
	_, ok, _ = h.Take(ctx, "challenge:abc")
	fmt.Println(ok)
	// Output:
	// nonce bytes true
	// false
}
