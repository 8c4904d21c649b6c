package gateway

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/drawbridge-gw/drawbridge/internal/httpsig"
	"github.com/drawbridge-gw/drawbridge/internal/httpwire"
	"github.com/drawbridge-gw/drawbridge/internal/store"
)

// What the proof layers (signature, dpop) share: the origin the client
// addressed, the target as it sent it, its body read before forwarding,
// and the one replay guard.

// publicOrigin is the scheme and authority the client addressed: the
// configured origin behind a TLS-terminating load balancer, else https
// when the client reached the gateway over TLS (or a trusted proxy says
// so) and the request's Host.
func publicOrigin(o httpsig.Origin, s *Scope) httpsig.Origin {
	if o.Scheme == "" {
		o.Scheme = "http"
		if s.Secure {
			o.Scheme = "https"
		}
	}
	if o.Authority == "" {
		o.Authority = s.Request.Host
	}
	return o
}

// parseOrigin reads a configured origin; empty means "from the request".
func parseOrigin(s string) (httpsig.Origin, error) {
	if s == "" {
		return httpsig.Origin{}, nil
	}
	return httpsig.ParseOrigin(s)
}

// targetPathRaw is the path of the request-target exactly as the client
// sent it (origin-form or absolute-form), without the query.
func targetPathRaw(target string) string {
	if !strings.HasPrefix(target, "/") {
		if _, rest, ok := strings.Cut(target, "://"); ok {
			i := strings.IndexAny(rest, "/?#")
			if i < 0 || rest[i] != '/' {
				return "/"
			}
			target = rest[i:]
		}
	}
	if i := strings.IndexAny(target, "?#"); i >= 0 {
		target = target[:i]
	}
	return target
}

// hasBody reports whether the request has, or says it has, content.
func hasBody(r *http.Request) bool {
	return r.ContentLength != 0 || len(r.TransferEncoding) > 0
}

// readBody reads the request body, up to max bytes, before the request is
// forwarded, and puts back a reader over the same bytes: the upstream
// receives the body unchanged. A body longer than max is refused with
// tooLarge; a body that fails to arrive is the client's fault, as for a
// forwarded body (bodyReader.reason).
func readBody(s *Scope, max int64, tooLarge string) ([]byte, *Denial) {
	r := s.Request
	if r.ContentLength > max {
		return nil, Deny(tooLarge)
	}
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, max+1))
	if err != nil {
		var we *httpwire.Error
		var ne net.Error
		switch {
		case errors.As(err, &we):
			return nil, &Denial{Reason: we.Reason(), Cause: err}
		case errors.As(err, &ne) && ne.Timeout():
			return nil, &Denial{Reason: "request.body_timeout", Cause: err}
		}
		return nil, &Denial{Reason: "request.body_incomplete", Cause: err}
	}
	if int64(len(b)) > max {
		return nil, Deny(tooLarge)
	}
	r.Body = &replayBody{Reader: bytes.NewReader(b), orig: r.Body}
	return b, nil
}

// replayBody serves a body read ahead of forwarding; closing it closes
// the client's.
type replayBody struct {
	*bytes.Reader
	orig io.Closer
}

func (b *replayBody) Close() error { return b.orig.Close() }

// maxGuardKey bounds replay-guard keys before they reach the store: keys
// built from client values longer than this are hashed.
const maxGuardKey = 256

// replayGuard is the store's Claim, the one replay guard of every layer,
// with over-long keys hashed: a signature nonce is whatever the client
// sent, and a store refuses keys beyond store.MaxKeyLen (which would fail
// the request as unavailable).
type replayGuard struct{ hot store.Hot }

func (g replayGuard) Claim(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	if len(key) > maxGuardKey {
		// A namespace of its own: no layer's key begins "hashed:".
		sum := sha256.Sum256([]byte(key))
		key = "hashed:" + base64.RawURLEncoding.EncodeToString(sum[:])
	}
	return g.hot.Claim(ctx, key, ttl)
}
