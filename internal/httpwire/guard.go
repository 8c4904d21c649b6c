package httpwire

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"net"
	"net/http"
	"sync"
)

// Limits bound what a request head and chunked framing may use. Zero
// values mean the documented defaults.
type Limits struct {
	// MaxHeaderBytes bounds the whole request head, request line and
	// empty lines before it included. Beyond it: ReasonHeadersTooLarge.
	// If zero, 32 KiB. Above 32 KiB, each connection's read buffer grows
	// from 64 KiB to twice this, so that a held head leaves room to read.
	MaxHeaderBytes int
	// MaxRequestLineBytes bounds the request line, CRLF excluded. Beyond
	// it: ReasonURITooLong. If zero, 8 KiB.
	MaxRequestLineBytes int
	// MaxHeaderCount bounds the number of field lines. Beyond it:
	// ReasonHeadersTooLarge. If zero, 100.
	MaxHeaderCount int
	// MaxChunkLineBytes bounds a chunk-size line, extensions and CRLF
	// included. Beyond it: ReasonBadChunk. If zero, 4096 (net/http refuses
	// lines of 4096 bytes and more, CRLF excluded).
	MaxChunkLineBytes int
	// MaxTrailerBytes bounds the trailer section, final CRLF included.
	// Beyond it: ReasonBadChunk. If zero, 16 KiB. net/http itself fails
	// a body whose trailer does not fit its 4 KiB read buffer.
	MaxTrailerBytes int
}

// limits is Limits with the defaults applied.
type limits struct {
	header, requestLine, headerCount, chunkLine, trailer int
}

func (l Limits) resolve() limits {
	def := func(v, d int) int {
		if v <= 0 {
			return d
		}
		return v
	}
	return limits{
		header:      def(l.MaxHeaderBytes, 32<<10),
		requestLine: def(l.MaxRequestLineBytes, 8<<10),
		headerCount: def(l.MaxHeaderCount, 100),
		chunkLine:   def(l.MaxChunkLineBytes, 4096),
		trailer:     def(l.MaxTrailerBytes, 16<<10),
	}
}

// RefusalHeader is the field of the synthetic request that stands for a
// refused one. The guard refuses any request that sends it.
const RefusalHeader = "Drawbridge-Refusal"

// refusedHost is the Host of the synthetic request; .invalid can never be
// a real name (RFC 6761 §6.4).
const refusedHost = "refused.invalid"

// bufSize is the read buffer of a connection: one read of this size is
// validated before any request head in it is released.
const bufSize = 64 << 10

// processSecret marks synthetic requests. It is drawn once per process, so
// that any Guard recognises the refusals of every other: a handler shared
// by several listeners may ask any of their guards.
var processSecret = sync.OnceValue(func() string {
	var key [32]byte
	rand.Read(key[:]) // never fails (crypto/rand, Go 1.24+)
	return hex.EncodeToString(key[:])
})

// Guard validates the HTTP/1.x framing of every connection of one listener.
// It is safe for concurrent use. Create it once per listener with NewGuard:
// it holds the limits, the pool of read buffers and the per-process random
// secret that marks the guard's synthetic requests.
type Guard struct {
	lim     limits
	bufSize int
	pool    sync.Pool // of *[]byte of len bufSize

	secret    string            // hex of 32 random bytes
	synthetic map[string][]byte // reason -> synthetic request head
}

// NewGuard returns a guard enforcing l.
func NewGuard(l Limits) *Guard {
	g := &Guard{
		lim:       l.resolve(),
		bufSize:   bufSize,
		secret:    processSecret(),
		synthetic: make(map[string][]byte, len(Reasons)),
	}
	// A held partial head must leave room to read the byte that crosses
	// the limit.
	if g.bufSize < 2*g.lim.header {
		g.bufSize = 2 * g.lim.header
	}
	g.pool.New = func() any {
		b := make([]byte, g.bufSize)
		return &b
	}
	for _, r := range Reasons {
		g.synthetic[r] = []byte("GET / HTTP/1.1\r\nHost: " + refusedHost + "\r\n" +
			RefusalHeader + ": " + g.secret + " " + r + "\r\nConnection: close\r\n\r\n")
	}
	return g
}

// Wrap returns c with its reads validated. Use it on every accepted
// connection before net/http sees it; after a TLS handshake, wrap the
// *tls.Conn (see the package documentation for what net/http then no
// longer sees).
func (g *Guard) Wrap(c net.Conn) *Conn {
	return &Conn{
		Conn:  c,
		g:     g,
		head:  headParser{lim: &g.lim},
		chunk: chunkParser{lim: &g.lim},
	}
}

// Refusal reports whether r is the synthetic request the guard handed to
// net/http in place of a refused one, and why. Call it first in the
// handler. When r carries no refusal it costs one map lookup.
func (g *Guard) Refusal(r *http.Request) (reason string, refused bool) {
	v, ok := r.Header[RefusalHeader]
	if !ok {
		return "", false
	}
	if len(v) != 1 || len(v[0]) <= len(g.secret)+1 || v[0][len(g.secret)] != ' ' {
		return "", false
	}
	// Constant time, so that probing cannot recover the secret; the guard
	// refuses the field from clients anyway.
	if subtle.ConstantTimeCompare([]byte(v[0][:len(g.secret)]), []byte(g.secret)) != 1 {
		return "", false
	}
	reason = v[0][len(g.secret)+1:]
	if _, known := g.synthetic[reason]; !known {
		return "", false
	}
	return reason, true
}

func (g *Guard) getBuf() *[]byte { return g.pool.Get().(*[]byte) }

func (g *Guard) putBuf(b *[]byte) { g.pool.Put(b) }
