// Package httpwire is a strict HTTP/1.x framing guard that sits between
// an accepted connection and net/http's server.
//
// # Why
//
// Request smuggling needs two parsers that disagree on where a request
// ends. net/http's server is lenient in ways that are harmless for an
// origin server but not for a gateway in front of one: it accepts bare LF
// line endings, drops Content-Length when Transfer-Encoding is present,
// merges identical duplicate Content-Length fields, ignores a
// Transfer-Encoding on HTTP/1.0, and skips stray CR and LF bytes after a
// POST. By the time a handler runs, the evidence is gone: it cannot
// tell the request it got from the bytes the client sent. So the guard
// reads those bytes first and refuses, like Envoy's strict defaults, every
// framing that any two reasonable parsers might read differently.
//
// # How
//
// Guard.Wrap returns a net.Conn; net/http reads through it. Every request
// head and every chunked body on the connection, through keep-alive and
// pipelining, is validated by a small state machine (head.go, chunked.go).
// Valid bytes are passed through unchanged: the guard never rewrites a
// request, so what net/http parses is what was validated. The exception is
// empty lines before a request line, which RFC 9112 §2.2 lets a server
// skip, and which net/http would otherwise answer with its own 400.
//
// The guard never writes to the connection: its responses would interleave
// with net/http's. When it refuses a request whose head net/http has not
// seen, it hands net/http a synthetic request in its place,
//
//	GET / HTTP/1.1
//	Host: refused.invalid
//	Drawbridge-Refusal: <secret> <reason>
//	Connection: close
//
// and then io.EOF. The gateway's handler calls Guard.Refusal first and
// renders the denial like any other, so refusals are logged and counted
// with the same reason codes (Reasons). The secret is drawn per process and
// compared in constant time; a client sending Drawbridge-Refusal itself is
// refused. Because the connection reads io.EOF after the synthetic head,
// net/http's background read cancels that request's context, usually
// before the handler runs: render the refusal without depending on
// r.Context().
//
// # Look-ahead
//
// Each read from the network (up to 64 KiB) runs through the state machine
// whole before any request head in it is released. A request that arrives
// in one packet with a malformed chunked body is therefore refused before
// net/http, and so the upstream, sees any of it. If the body arrives later,
// after its head was released, Conn.Read returns an *Error and
// Conn.Refused reports the reason; the connection is dead from then on.
// Content-Length bodies cannot be malformed: when nothing is buffered they
// are read straight into net/http's buffer, without a copy.
//
// # Upgrades
//
// A request asking to switch protocols (an Upgrade field and the "upgrade"
// connection option; an upgrade to h2c is refused) is validated like any
// other; after its body the guard passes everything through, since the
// connection may have become a WebSocket. The gateway must therefore
// answer such a request with Connection: close whenever the upgrade does
// not happen, or net/http would read the next request from bytes the guard
// did not check.
//
// # Deadlines and limits
//
// Conn embeds the wrapped net.Conn, so deadlines work as usual and a
// timeout leaves the guard's state intact. A head that never completes
// (slowloris) is held, never released, until net/http's ReadHeaderTimeout
// fires. A head is refused as soon as it crosses a limit (Limits), without
// reading further.
//
// # What net/http no longer sees
//
// net/http recognises a *tls.Conn by its type, to run the handshake, fill
// Request.TLS and hand ALPN "h2" connections to HTTP/2. A wrapped
// connection is a *Conn, so the gateway must complete the handshake
// itself, serve "h2" connections without the guard (HTTP/2 frames carry
// their own lengths; RFC 9113 §8.1.1 and §8.2 checks belong there), and
// carry the TLS state to handlers through Server.ConnContext (NetConn
// returns the *tls.Conn). Over TLS one read returns at most one record
// (16 KiB), which bounds the look-ahead.
//
// Each connection holds a 64 KiB buffer from a pool while it reads, which
// on an idle keep-alive connection is all the time; it is returned on
// Close, or as soon as the connection is upgraded or refused.
package httpwire
