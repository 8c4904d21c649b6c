package gateway

import (
	"errors"
	"io"
	"net"
	"net/http"

	"github.com/drawbridge-gw/drawbridge/internal/httpwire"
)

// errBodyLength reports an HTTP/2 body whose DATA frames do not add up to
// its content-length (RFC 9113 §8.1.1). HTTP/1 framing is checked by the
// connection guard.
var errBodyLength = &httpwire.Error{Code: httpwire.ReasonBadContentLength}

// bodyReader wraps a request body on its way upstream. It caps the body's
// size, checks an HTTP/2 body against its declared length, and remembers
// why reading failed, so that a client's slow, short or oversized body is
// answered as the client's fault and never blamed on the upstream.
type bodyReader struct {
	rc       io.ReadCloser
	max      int64 // the route's cap
	declared int64 // HTTP/2 content-length to check, or -1
	n        int64
	err      error // first read error other than io.EOF
}

func (b *bodyReader) reset(rc io.ReadCloser, max, declared int64) {
	*b = bodyReader{rc: rc, max: max, declared: declared}
}

func (b *bodyReader) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if int64(len(p)) > b.max-b.n+1 {
		p = p[:b.max-b.n+1] // read one byte past the cap to detect it
	}
	n, err := b.rc.Read(p)
	b.n += int64(n)
	switch {
	case b.n > b.max:
		n -= int(b.n - b.max)
		err = &http.MaxBytesError{Limit: b.max}
	case b.declared >= 0 && (b.n > b.declared || (err == io.EOF && b.n != b.declared)):
		err = errBodyLength
	}
	if err != nil && err != io.EOF {
		b.err = err
	}
	return n, err
}

func (b *bodyReader) Close() error { return b.rc.Close() }

// reason classifies a body read failure, or returns "" when reading the
// body did not fail.
func (b *bodyReader) reason() string {
	var mbe *http.MaxBytesError
	var we *httpwire.Error
	var ne net.Error
	switch {
	case b.err == nil:
		return ""
	case errors.As(b.err, &mbe):
		return "request.body_too_large"
	case errors.As(b.err, &we):
		return we.Reason()
	case errors.As(b.err, &ne) && ne.Timeout():
		return "request.body_timeout"
	default:
		return "client.aborted"
	}
}

// checkEmptyH2Body makes sure an HTTP/2 request that declares an empty
// body sends none: ReverseProxy would not read it, and a request with a
// smuggled DATA frame must not be forwarded as if it were empty.
func checkEmptyH2Body(r *http.Request) error {
	var one [1]byte
	n, err := r.Body.Read(one[:])
	if n > 0 {
		return errBodyLength
	}
	if err != nil && err != io.EOF {
		return err
	}
	return nil
}
