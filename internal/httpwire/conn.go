package httpwire

import (
	"errors"
	"io"
	"net"
	"sync"
)

// mode is what the bytes at the parse position belong to.
type mode uint8

const (
	modeHead        mode = iota // a request head, or empty lines before one
	modeLength                  // a Content-Length body
	modeChunked                 // a chunked body
	modePassthrough             // anything: the connection may have been upgraded
	modeDone                    // refused: nothing more is read from the network
)

// Conn is a connection whose reads are validated by a Guard. Read returns
// the bytes the client sent, unchanged (bar empty lines before a request
// line), once they are known to frame requests unambiguously; a refused
// request is replaced by a synthetic one (see Guard.Refusal). Everything
// else (Write, deadlines, addresses) is the wrapped connection's.
//
// Read must not be called concurrently with itself, as net/http never
// does; Close, Refused and the other methods may be called at any time.
type Conn struct {
	net.Conn
	g *Guard

	mu      sync.Mutex
	reading bool   // a Read is running; guarded by mu
	closed  bool   // guarded by mu
	bodyErr string // reason of a body violation; guarded by mu

	// The read buffer, taken from the guard's pool on the first read and
	// returned on Close (or once the connection is passed through or
	// refused). Bytes in it are ordered:
	//
	//	buf[r:rel]  validated and released, not yet returned by Read
	//	buf[rel:w]  held back: a request head not yet complete (modeHead)
	//
	// p is where scan stands; it moves ahead of rel while scan runs, and
	// equals rel once it returns.
	bufp         *[]byte
	buf          []byte
	r, rel, p, w int

	mode     mode
	reqStart int  // offset of the current request's head, while not released
	released bool // the current request's head has been released
	head     headParser
	remain   int64 // modeLength: body bytes to come
	chunk    chunkParser
	upgrade  bool // the current request asks to upgrade: pass through after its body
	rescan   bool // scan stopped at a complete head to drop the empty lines before it
	complete int  // requests validated to the end of their body

	synth []byte // refused: what remains of the synthetic head, then io.EOF
	err   error  // body violation: returned by every Read

	// OnHeadPending, if set before the first Read, is called from Read
	// when bytes read from the network leave a request head incomplete:
	// the guard holds the head back, so net/http, which arms its
	// read-header timeout only once it can peek at a head, would wait
	// with whatever deadline it set before. The gateway arms the head
	// deadline there. Heads that arrive whole (nearly all) never call it.
	OnHeadPending func()

	// idle receives the first bytes after a wait between requests, so
	// that an idle keep-alive connection holds this small array rather
	// than a pooled read buffer: ten thousand idle connections would
	// otherwise pin ten thousand 64 KiB buffers.
	idle [1024]byte
}

// Read reads validated bytes. It reads the network into its buffer and
// runs every byte read through the framing state machine before releasing
// any request head among them, so a request whose malformed body arrives
// with its head is refused before net/http sees its first byte. Bytes of
// earlier valid requests are released normally.
//
// Content-Length bodies are read straight into b when nothing is
// buffered; nothing in them can be malformed. Chunked bodies are validated
// as they stream. A violation found in a body whose head was released
// already makes Read return an *Error, now and for every later call, and
// Refused report it.
func (c *Conn) Read(b []byte) (int, error) {
	if !c.enter() {
		return c.Conn.Read(b) // closed: let the connection say so
	}
	defer c.exit()
	if len(b) == 0 {
		return 0, nil
	}
	for {
		if c.r < c.rel {
			n := copy(b, c.buf[c.r:c.rel])
			c.r += n
			if c.r == c.w && c.mode == modeHead && !c.rescan {
				// Drained between requests: give the buffer back while
				// the connection waits for its next request.
				c.freeBuf()
			}
			return n, nil
		}
		if c.rescan {
			c.rescan = false
			c.scan()
			continue
		}
		switch {
		case c.mode == modeDone:
			return c.readDone(b)
		case c.r == c.w && c.mode == modeLength:
			return c.readLength(b)
		case c.r == c.w && c.mode == modePassthrough:
			c.freeBuf()
			return c.Conn.Read(b)
		}
		err := c.fill()
		if err != nil && c.r == c.rel && c.mode != modeDone {
			// Nothing to release: an incomplete head stays held. A timeout
			// leaves the state intact for the next Read.
			return 0, err
		}
	}
}

// fill reads the network into the buffer and scans what it read. It is
// called only when every released byte has been returned.
func (c *Conn) fill() error {
	if c.bufp == nil {
		if c.mode == modeHead {
			// Wait for the next request without holding a buffer.
			n, err := c.Conn.Read(c.idle[:])
			if n == 0 {
				return err
			}
			c.bufp = c.g.getBuf()
			c.buf = *c.bufp
			c.w = copy(c.buf, c.idle[:n])
			c.scan()
			c.headPending()
			return err
		}
		c.bufp = c.g.getBuf()
		c.buf = *c.bufp
	}
	if c.r > 0 {
		// Keep the held bytes (an incomplete head, at most
		// Limits.MaxHeaderBytes) and make room behind them.
		n := copy(c.buf, c.buf[c.r:c.w])
		c.p -= c.r
		c.rel -= c.r
		c.w = n
		c.r = 0
	}
	n, err := c.Conn.Read(c.buf[c.w:])
	if n > 0 {
		c.w += n
		c.scan()
		c.headPending()
	}
	return err
}

// headPending calls OnHeadPending when a request head is held back
// incomplete.
func (c *Conn) headPending() {
	if c.OnHeadPending != nil && c.mode == modeHead && c.rel < c.w {
		c.OnHeadPending()
	}
}

// scan runs the state machine over buf[p:w] and moves the release
// boundary: past everything when no request head is incomplete, else up to
// that head. Because it always runs to the end of what was read, a head
// is released only together with the look-ahead that validated its body.
func (c *Conn) scan() {
	for {
		switch c.mode {
		case modeDone:
			return
		case modeHead:
			n, reason := c.head.feed(c.buf[c.p:c.w])
			if reason != "" {
				c.refuse(c.p, reason)
				return
			}
			if n == 0 {
				c.rel, c.released = c.p, true
				return
			}
			if c.head.skip > 0 && c.r < c.p {
				// Dropping the empty lines here would mean moving every
				// byte behind them, for each such request in the buffer.
				// Release what precedes them instead, and resume once
				// Read has returned it: then they are dropped for free.
				c.rel, c.released = c.p, true
				c.rescan = true
				return
			}
			c.startBody(n)
			continue
		case modeLength:
			if c.p == c.w {
				break
			}
			k := min(c.remain, int64(c.w-c.p))
			c.p += int(k)
			c.remain -= k
			if c.remain == 0 {
				c.endBody()
			}
			continue
		case modeChunked:
			if c.p == c.w {
				break
			}
			n, done, reason := c.chunk.feed(c.buf[c.p:c.w])
			c.p += n
			if reason != "" {
				c.bodyViolation(reason)
				return
			}
			if done {
				c.endBody()
			}
			continue
		case modePassthrough:
			c.p = c.w
		}
		// A break above: everything read has been validated.
		c.rel, c.released = c.w, true
		return
	}
}

// startBody follows a complete head of n bytes at buf[p:].
func (c *Conn) startBody(n int) {
	h := &c.head
	if h.skip > 0 {
		c.dropSkipped(h.skip)
		n -= h.skip
	}
	c.reqStart, c.released = c.p, false
	c.p += n
	c.upgrade = h.upgrades()
	switch {
	case h.hasTE:
		c.mode = modeChunked
		c.chunk.reset()
	case h.cl > 0:
		c.mode = modeLength
		c.remain = h.cl
	default:
		c.endBody()
	}
}

// dropSkipped drops the k bytes of empty lines at buf[p:] that preceded
// a request line: net/http would answer them with its own 400 (it
// tolerates a few only after a POST). Every byte before them has been
// returned by Read (see scan), so dropping is skipping.
func (c *Conn) dropSkipped(k int) {
	c.r += k
	c.rel += k
	c.p += k
}

// endBody follows the end of a request's body.
func (c *Conn) endBody() {
	c.complete++
	if c.upgrade {
		// The handler may answer 101 and hijack the connection: what
		// follows is another protocol. If it does not, the gateway must
		// answer with Connection: close, or net/http would read the next
		// request from unvalidated bytes.
		c.mode = modePassthrough
		return
	}
	c.mode = modeHead
	c.head.reset()
}

// refuse releases the bytes before at (earlier, valid requests) and
// replaces the rest of the connection with a synthetic refused request.
func (c *Conn) refuse(at int, reason string) {
	c.rel, c.p, c.w = at, at, at
	c.mode = modeDone
	c.synth = c.g.synthetic[reason]
}

// bodyViolation handles a malformed body at buf[p]. If the request's head
// is still held, the request is refused whole; otherwise net/http is
// reading its body, and gets the valid bytes before p and then an error.
func (c *Conn) bodyViolation(reason string) {
	if !c.released {
		c.refuse(c.reqStart, reason)
		return
	}
	c.rel, c.w = c.p, c.p
	c.mode = modeDone
	c.err = &Error{Code: reason}
	c.mu.Lock()
	c.bodyErr = reason
	c.mu.Unlock()
}

// readLength reads a Content-Length body straight into b, never past its
// end, which is where the next head begins.
func (c *Conn) readLength(b []byte) (int, error) {
	if int64(len(b)) > c.remain {
		b = b[:c.remain]
	}
	n, err := c.Conn.Read(b)
	c.remain -= int64(n)
	if c.remain == 0 {
		c.endBody()
	}
	return n, err
}

// readDone returns what follows the released bytes of a refused
// connection.
func (c *Conn) readDone(b []byte) (int, error) {
	c.freeBuf()
	if c.err != nil {
		return 0, c.err
	}
	if len(c.synth) > 0 {
		n := copy(b, c.synth)
		c.synth = c.synth[n:]
		return n, nil
	}
	return 0, io.EOF
}

// freeBuf returns the buffer to the pool. Its bytes must all have been
// returned by Read.
func (c *Conn) freeBuf() {
	if c.bufp == nil {
		return
	}
	c.g.putBuf(c.bufp)
	c.bufp, c.buf = nil, nil
	c.r, c.rel, c.p, c.w = 0, 0, 0, 0
}

// enter marks a Read as running, unless the connection is closed.
func (c *Conn) enter() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return false
	}
	c.reading = true
	return true
}

// exit ends a Read; the buffer is returned if Close ran meanwhile.
func (c *Conn) exit() {
	c.mu.Lock()
	c.reading = false
	if c.closed {
		c.freeBuf()
	}
	c.mu.Unlock()
}

// Close closes the wrapped connection and returns the read buffer to the
// pool (at once, or when a Read running concurrently returns).
func (c *Conn) Close() error {
	err := c.Conn.Close()
	c.mu.Lock()
	c.closed = true
	if !c.reading {
		c.freeBuf()
	}
	c.mu.Unlock()
	return err
}

// Refused reports the reason of the framing violation that ended this
// connection in the middle of a body, if any: the request's head had been
// released, so the handler (or a ReverseProxy ErrorHandler) saw the body
// fail with an *Error and can render the refusal. Requests refused before
// their head was released are reported by Guard.Refusal instead, never
// here.
func (c *Conn) Refused() (reason string, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.bodyErr, c.bodyErr != ""
}

// NetConn returns the wrapped connection.
func (c *Conn) NetConn() net.Conn { return c.Conn }

// CloseWrite shuts down the writing side of the wrapped connection if it
// can (*net.TCPConn, *tls.Conn). net/http calls it before closing a
// connection on which unread request bytes remain, so that the client
// reads the response before the reset.
func (c *Conn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return errors.ErrUnsupported
}
