package client_test

import (
	"context"
	"encoding/base64"

	"github.com/drawbridge-gw/drawbridge/client"
)

// countingAttestor is a development attestor that also refreshes "by
// assertion" (posting development evidence, so that a real gateway can
// check it), and counts both.
type countingAttestor struct {
	*client.DevAttestor
	bad              bool // its assertions carry a broken signature
	attests, asserts int
}

func (a *countingAttestor) Attest(ctx context.Context, h []byte) (client.Evidence, error) {
	a.attests++
	return a.DevAttestor.Attest(ctx, h)
}

func (a *countingAttestor) Assert(ctx context.Context, h []byte) (string, client.Evidence, error) {
	a.asserts++
	ev, err := a.DevAttestor.Attest(ctx, h)
	if a.bad {
		sig, _ := base64.RawURLEncoding.DecodeString(ev.Signature)
		sig[len(sig)-1] ^= 1
		ev.Signature = base64.RawURLEncoding.EncodeToString(sig)
	}
	return "dev", ev, err
}

var _ client.Asserter = (*countingAttestor)(nil)

// plainAttestor hides countingAttestor's Assert.
type plainAttestor struct{ a *countingAttestor }

func (p *plainAttestor) Platform() string { return p.a.Platform() }

func (p *plainAttestor) Attest(ctx context.Context, h []byte) (client.Evidence, error) {
	return p.a.Attest(ctx, h)
}
