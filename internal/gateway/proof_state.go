package gateway

import (
	"sync"
	"time"

	"github.com/drawbridge-gw/drawbridge/internal/apikey"
	"github.com/drawbridge-gw/drawbridge/internal/attest/service"
	"github.com/drawbridge-gw/drawbridge/internal/dpop"
)

// proofState is what the dpop and apikey layers keep for the life of the
// process, across reloads: the DPoP nonce secret generated when the
// config names none (so nonces outlive a reload), and the API key
// verifier with its cache (kept while the pepper, the cache TTL and the
// controls cache it follows are the same).
type proofState struct {
	mu          sync.Mutex
	nonceSecret []byte
	keys        *apikey.Verifier
	pepper      string
	ttl         time.Duration
	controls    *service.Controls // whose generation keys polls
}

// dpopNonceSecret returns the process's generated DPoP nonce secret.
func (g *Gateway) dpopNonceSecret() []byte {
	g.proofs.mu.Lock()
	defer g.proofs.mu.Unlock()
	if g.proofs.nonceSecret == nil {
		g.proofs.nonceSecret = dpop.NewSecret()
	}
	return g.proofs.nonceSecret
}

// apiKeyVerifier returns the process's API key verifier for pepper: its
// keys come from the durable store, and its cache is dropped whenever the
// run-time controls' generation moves (every key change moves it), which
// the controls cache polls twice a second.
func (g *Gateway) apiKeyVerifier(pepper string, ttl time.Duration) (*apikey.Verifier, error) {
	controls, err := g.controls()
	if err != nil {
		return nil, err
	}
	g.proofs.mu.Lock()
	defer g.proofs.mu.Unlock()
	if g.proofs.keys != nil && g.proofs.pepper == pepper && g.proofs.ttl == ttl && g.proofs.controls == controls {
		return g.proofs.keys, nil
	}
	h, err := apikey.NewHasher([]byte(pepper))
	if err != nil {
		return nil, err
	}
	g.proofs.keys = &apikey.Verifier{
		Keys: g.durable, Hasher: h, TTL: ttl, Now: g.now,
		Generation: func() uint64 { return controls.Snapshot().Generation },
	}
	g.proofs.pepper, g.proofs.ttl, g.proofs.controls = pepper, ttl, controls
	return g.proofs.keys, nil
}
