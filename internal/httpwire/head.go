package httpwire

import "bytes"

// headParser validates one request head (RFC 9112 §2.1: request-line,
// field lines, empty line) incrementally: feed is called with the head's
// bytes so far each time more arrive, and resumes where it stopped, so a
// head delivered a byte at a time costs no more than one delivered whole.
type headParser struct {
	lim *limits

	line    int  // offset of the line being parsed
	scanned int  // offset up to which that line has been searched for LF
	skip    int  // bytes of empty lines before the request line (RFC 9112 §2.2)
	inHead  bool // the request line has been parsed
	fields  int  // field lines so far

	// What the end-of-head checks and the body framing need.
	http10  bool
	hosts   int
	hasCL   bool
	cl      int64
	hasTE   bool // Transfer-Encoding: chunked (any other value is refused)
	upgrade bool // an Upgrade field other than h2c
	connUpg bool // an "upgrade" connection option (RFC 9110 §7.8)
}

// reset prepares p for the next head on the connection.
func (p *headParser) reset() { *p = headParser{lim: p.lim} }

// feed parses b, the bytes of the head read so far (b grows between calls;
// its start never moves). It returns the length of the head, final CRLF
// included, once the head is complete; 0 while more bytes are needed; or a
// reason when the head is refused. Limits are enforced on partial heads, so
// an oversized head is refused as soon as it crosses a limit.
func (p *headParser) feed(b []byte) (n int, reason string) {
	for {
		i := bytes.IndexByte(b[p.scanned:], '\n')
		if i < 0 {
			p.scanned = len(b)
			return 0, p.checkPartial(len(b))
		}
		lf := p.scanned + i
		// RFC 9112 §2.2: a gateway that accepted a bare LF could end a line
		// where the upstream does not.
		if lf == p.line || b[lf-1] != '\r' {
			return 0, ReasonBareLF
		}
		line := b[p.line : lf-1]
		next := lf + 1
		switch {
		case !p.inHead && len(line) == 0:
			// An empty line before the request line is skipped (RFC 9112
			// §2.2); it still counts towards MaxHeaderBytes.
			p.skip = next
		case !p.inHead:
			if len(line) > p.lim.requestLine {
				return 0, ReasonURITooLong
			}
			if r := p.requestLine(line); r != "" {
				return 0, r
			}
			p.inHead = true
		case len(line) == 0:
			if next > p.lim.header {
				return 0, ReasonHeadersTooLarge
			}
			if r := p.endOfHead(); r != "" {
				return 0, r
			}
			return next, ""
		default:
			p.fields++
			if p.fields > p.lim.headerCount {
				return 0, ReasonHeadersTooLarge
			}
			if r := p.field(line); r != "" {
				return 0, r
			}
		}
		if next > p.lim.header {
			return 0, ReasonHeadersTooLarge
		}
		p.line, p.scanned = next, next
	}
}

// checkPartial applies the size limits to an incomplete head of n bytes.
func (p *headParser) checkPartial(n int) string {
	if !p.inHead && n-p.line > p.lim.requestLine {
		return ReasonURITooLong
	}
	if n > p.lim.header {
		return ReasonHeadersTooLarge
	}
	return ""
}

// requestLine checks "method SP request-target SP HTTP-version" (RFC 9112
// §3).
func (p *headParser) requestLine(line []byte) string {
	for _, b := range line {
		if b < 0x20 || b == 0x7f {
			return ReasonBadRequestLine // control characters, bare CR, HTAB
		}
	}
	method, rest, ok := bytes.Cut(line, []byte{' '})
	if !ok || len(method) == 0 {
		return ReasonBadRequestLine
	}
	target, version, ok := bytes.Cut(rest, []byte{' '})
	if !ok || bytes.IndexByte(version, ' ') >= 0 {
		return ReasonBadRequestLine
	}
	// The HTTP/2 connection preface (RFC 9113 §3.4) would switch the
	// connection to a protocol this guard cannot follow.
	if string(method) == "PRI" && string(version) == "HTTP/2.0" {
		return ReasonH2CUpgrade
	}
	switch string(version) { // HTTP-name is case-sensitive (RFC 9112 §2.3)
	case "HTTP/1.1":
	case "HTTP/1.0":
		p.http10 = true
	default:
		return ReasonBadVersion
	}
	for _, b := range method {
		if !tcharByte[b] {
			return ReasonMethodNotAllowed
		}
	}
	// CONNECT turns the connection into a tunnel nothing inspects. Method
	// names are case-sensitive, but some servers are not.
	if equalFold(method, "connect") {
		return ReasonMethodNotAllowed
	}
	return checkTarget(target, string(method) == "OPTIONS")
}

// checkTarget checks a request-target (RFC 9112 §3.2): origin-form,
// absolute-form with an http or https authority, or asterisk-form for
// OPTIONS. Authority-form is CONNECT's and was refused with it.
func checkTarget(t []byte, options bool) string {
	if len(t) == 0 {
		return ReasonBadRequestLine
	}
	for _, b := range t {
		if !targetByte[b] {
			return ReasonBadRequestLine
		}
	}
	switch {
	case t[0] == '/':
		return checkPathQuery(t)
	case len(t) == 1 && t[0] == '*':
		if !options {
			return ReasonBadRequestLine
		}
		return ""
	}
	var rest []byte
	switch {
	case len(t) >= 7 && equalFold(t[:7], "http://"):
		rest = t[7:]
	case len(t) >= 8 && equalFold(t[:8], "https://"):
		rest = t[8:]
	default:
		return ReasonBadRequestLine
	}
	end := bytes.IndexAny(rest, "/?")
	if end < 0 {
		end = len(rest)
	}
	// net/http sets Request.Host from this authority and ignores the Host
	// field (RFC 9112 §3.2.2), so it is held to the same rules.
	if end == 0 || !validHost(rest[:end]) {
		return ReasonBadHost
	}
	return checkPathQuery(rest[end:])
}

// checkPathQuery checks the path and query of a target whose characters
// are already known to be allowed.
func checkPathQuery(t []byte) string {
	path, _, _ := bytes.Cut(t, []byte{'?'})
	if !validPathEscapes(path) {
		return ReasonBadRequestLine
	}
	return ""
}

// field checks one field line (RFC 9112 §5): field-name ":" OWS
// field-value OWS, and the fields that decide framing.
func (p *headParser) field(line []byte) string {
	// A line starting with whitespace is obs-fold (RFC 9112 §5.2), or a
	// first field that some servers append to the request line.
	i := 0
	for i < len(line) && nameByte[line[i]] {
		i++
	}
	if i == 0 || i == len(line) || line[i] != ':' {
		return ReasonBadHeader // no name, '_', or whitespace before the colon
	}
	name := line[:i]
	value := trimOWS(line[i+1:])
	for _, b := range value {
		if !valueByte[b] {
			return ReasonBadHeader // control characters, bare CR
		}
	}
	switch len(name) {
	case 4:
		if equalFold(name, "host") {
			return p.host(value)
		}
	case 7:
		if equalFold(name, "upgrade") {
			return p.upgradeField(value)
		}
	case 10:
		if equalFold(name, "connection") {
			return p.connection(value)
		}
	case 14:
		if equalFold(name, "content-length") {
			return p.contentLength(value)
		}
		if equalFold(name, "http2-settings") {
			return ReasonH2CUpgrade
		}
	case 17:
		if equalFold(name, "transfer-encoding") {
			return p.transferEncoding(value)
		}
	case len(RefusalHeader):
		// Only the guard may say a request was refused.
		if equalFold(name, "drawbridge-refusal") {
			return ReasonBadHeader
		}
	}
	return ""
}

func (p *headParser) host(v []byte) string {
	p.hosts++
	if p.hosts > 1 || !validHost(v) {
		return ReasonBadHost
	}
	return ""
}

func (p *headParser) contentLength(v []byte) string {
	if p.hasCL {
		return ReasonBadContentLength // even "6" twice: RFC 9110 §8.6 lets a recipient merge them, a gateway refuses
	}
	n, ok := parseContentLength(v)
	if !ok {
		return ReasonBadContentLength
	}
	p.hasCL, p.cl = true, n
	return ""
}

// transferEncoding accepts exactly one field whose value is "chunked":
// the only coding net/http decodes on requests, and the one every upstream
// agrees on. Anything else ("xchunked", "chunked, x", a second field,
// quotes, obs-text) is a smuggling attempt or unsupported (RFC 9112 §6.1).
func (p *headParser) transferEncoding(v []byte) string {
	if p.http10 || p.hasTE || !equalFold(v, "chunked") {
		return ReasonBadTransferEncoding
	}
	p.hasTE = true
	return ""
}

// connection refuses a Connection field naming a framing field: the next
// hop would drop it as hop-by-hop (RFC 9110 §7.6.1) and frame the request
// differently. It notes the "upgrade" option.
func (p *headParser) connection(v []byte) string {
	for len(v) > 0 {
		var e []byte
		e, v = nextElement(v)
		if equalFold(e, "content-length") || equalFold(e, "transfer-encoding") || equalFold(e, "host") {
			return ReasonBadConnection
		}
		if equalFold(e, "upgrade") {
			p.connUpg = true
		}
	}
	return ""
}

// upgrades reports whether the request asks to switch protocols: an
// Upgrade field and the "upgrade" connection option (RFC 9110 §7.8), which
// is also what httputil.ReverseProxy requires before it tunnels. An Upgrade
// field alone is ignored by every hop, so it does not end validation.
func (p *headParser) upgrades() bool { return p.upgrade && p.connUpg }

// upgradeField refuses an upgrade to HTTP/2 in the clear (RFC 9113 §3.1
// removed it; h2c smuggling uses it to reach the upstream unfiltered),
// whether or not Connection names it, and notes any other protocol.
func (p *headParser) upgradeField(v []byte) string {
	for len(v) > 0 {
		var e []byte
		e, v = nextElement(v)
		name, version, _ := bytes.Cut(e, []byte{'/'})
		name = trimOWS(name)
		if equalFold(name, "h2c") || equalFold(name, "h2") ||
			equalFold(name, "http") && len(version) > 0 && version[0] == '2' {
			return ReasonH2CUpgrade
		}
		if len(e) > 0 {
			p.upgrade = true
		}
	}
	return ""
}

// endOfHead applies the checks that need the whole head.
func (p *headParser) endOfHead() string {
	if !p.http10 && p.hosts == 0 {
		return ReasonBadHost // RFC 9112 §3.2
	}
	if p.hasCL && p.hasTE {
		return ReasonCLTE // RFC 9112 §6.3 ¶3
	}
	return ""
}
