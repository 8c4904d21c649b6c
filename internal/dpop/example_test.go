package dpop_test

import (
	"context"
	"fmt"

	"github.com/drawbridge-gw/drawbridge/internal/dpop"
	"github.com/drawbridge-gw/drawbridge/internal/dpop/dpoptest"
	"github.com/drawbridge-gw/drawbridge/internal/store/memory"
)

// A resource server checks the proof of a request that presents an
// access token bound to the client's key (its cnf.jkt).
func Example() {
	client, _ := dpoptest.NewKey("ES256")
	const accessToken = "eyJ...the access token"
	proof := client.ProofWith(dpoptest.Claims{Method: "GET", URI: "https://api.example.com/orders", AccessToken: accessToken}, nil)

	hot := memory.NewHot(memory.HotOptions{})
	defer hot.Close()
	v := &dpop.Verifier{ReplayGuard: hot}
	req := dpop.Request{
		Method:      "GET",
		URI:         "https://api.example.com/orders?page=2",
		Proofs:      []string{proof},
		AccessToken: accessToken,
		BoundKeys:   []string{client.JKT}, // the token's cnf.jkt
	}
	_, err := v.Verify(context.Background(), req)
	fmt.Println("first:", err == nil)
	_, err = v.Verify(context.Background(), req)
	fmt.Println("again:", dpop.ReasonOf(err))
	// Output:
	// first: true
	// again: dpop.replayed
}
