package httpwire

import "math"

// chunkState is where a chunkParser is in the chunked body grammar of RFC
// 9112 §7.1:
//
//	chunked-body   = *chunk last-chunk trailer-section CRLF
//	chunk          = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
//	last-chunk     = 1*("0") [ chunk-ext ] CRLF
//	chunk-ext      = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
//	chunk-ext-val  = token / quoted-string
type chunkState uint8

const (
	csSize         chunkState = iota // first hex digit of a chunk-size
	csSizeMore                       // more hex digits, ';' or CR
	csExtPreName                     // BWS after ';'
	csExtName                        // in an extension name
	csExtPostName                    // BWS after a name: '=' or ';' must follow
	csExtPreVal                      // BWS after '='
	csExtToken                       // in a token value
	csExtQuoted                      // in a quoted-string value
	csExtEscape                      // after '\' in a quoted-string
	csExtPostVal                     // BWS after a value: ';' must follow
	csSizeLF                         // CR ending the chunk line seen
	csData                           // in chunk-data
	csDataCR                         // CR after chunk-data expected
	csDataLF                         // LF after chunk-data expected
	csTrailerStart                   // start of a trailer field line or of the final CRLF
	csTrailerName                    // in a trailer field name
	csTrailerValue                   // in a trailer field value
	csTrailerLF                      // CR ending a trailer line seen
	csEndLF                          // CR of the final CRLF seen
	csDone                           // the body is complete
)

// trailerNameMax is the longest forbidden trailer name, so names are only
// remembered up to that length.
const trailerNameMax = len("drawbridge-refusal")

// chunkParser validates a chunked body as it streams through, byte by byte
// in the framing and in bulk over chunk data, without buffering any of it.
// It is stricter than RFC 9112 where real clients never need the latitude
// and parsers are known to disagree: no whitespace around the chunk-size,
// and the chunk line ends at CR LF only.
type chunkParser struct {
	lim *limits

	state   chunkState
	size    uint64 // chunk-size being read, then data bytes left
	digits  int    // hex digits in the chunk-size
	line    int    // bytes of the current chunk line, CRLF included
	trailer int    // bytes of the trailer section so far

	name    [trailerNameMax]byte // current trailer field name, lower-cased
	nameLen int                  // its length; > trailerNameMax when longer

	data uint64 // chunk-data bytes so far, for tests
}

// reset prepares p for the next chunked body.
func (p *chunkParser) reset() { *p = chunkParser{lim: p.lim} }

// feed validates b, the next bytes of the body. It returns the number of
// bytes that belong to the body: all of b, or fewer when the body ends
// inside b (done is then true) or a violation is found at b[n] (reason is
// then set).
func (p *chunkParser) feed(b []byte) (n int, done bool, reason string) {
	for n < len(b) {
		if p.state == csData {
			k := uint64(len(b) - n)
			if k > p.size {
				k = p.size
			}
			n += int(k)
			p.size -= k
			p.data += k
			if p.size == 0 {
				p.state = csDataCR
			}
			continue
		}
		c := b[n]
		if c == '\n' && p.state != csSizeLF && p.state != csDataLF &&
			p.state != csTrailerLF && p.state != csEndLF {
			return n, false, ReasonBareLF
		}
		if r := p.step(c); r != "" {
			return n, false, r
		}
		n++
		if p.state == csDone {
			return n, true, ""
		}
	}
	return n, false, ""
}

// step advances the framing states by one byte.
func (p *chunkParser) step(c byte) string {
	if p.state <= csSizeLF {
		p.line++
		if p.line > p.lim.chunkLine {
			return ReasonBadChunk
		}
	} else if p.state >= csTrailerStart {
		p.trailer++
		if p.trailer > p.lim.trailer {
			return ReasonBadChunk
		}
	}
	switch p.state {
	case csSize:
		v := unhex(c)
		if v < 0 {
			return ReasonBadChunk // empty size, leading whitespace, sign
		}
		p.size, p.digits, p.state = uint64(v), 1, csSizeMore
	case csSizeMore:
		switch {
		case c == ';':
			p.state = csExtPreName
		case c == '\r':
			p.state = csSizeLF
		case unhex(c) >= 0:
			// 16 digits hold any uint64; more are refused even as leading
			// zeros, as net/http does. Above 2^63-1 an upstream using
			// int64 sizes would see a negative length.
			p.digits++
			if p.digits > 16 {
				return ReasonBadChunk
			}
			p.size = p.size<<4 | uint64(unhex(c))
			if p.size > math.MaxInt64 {
				return ReasonBadChunk
			}
		default:
			return ReasonBadChunk // "0x", whitespace before ';' or CR
		}
	case csExtPreName:
		switch {
		case isOWS(c):
		case tcharByte[c]:
			p.state = csExtName
		default:
			return ReasonBadChunk
		}
	case csExtName, csExtToken:
		switch {
		case tcharByte[c]:
		case isOWS(c):
			if p.state == csExtName {
				p.state = csExtPostName
			} else {
				p.state = csExtPostVal
			}
		case c == '=' && p.state == csExtName:
			p.state = csExtPreVal
		case c == ';':
			p.state = csExtPreName
		case c == '\r':
			p.state = csSizeLF
		default:
			return ReasonBadChunk
		}
	case csExtPostName:
		switch {
		case isOWS(c):
		case c == '=':
			p.state = csExtPreVal
		case c == ';':
			p.state = csExtPreName
		default:
			return ReasonBadChunk
		}
	case csExtPreVal:
		switch {
		case isOWS(c):
		case c == '"':
			p.state = csExtQuoted
		case tcharByte[c]:
			p.state = csExtToken
		default:
			return ReasonBadChunk
		}
	case csExtQuoted:
		// qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text
		switch {
		case c == '"':
			p.state = csExtPostVal
		case c == '\\':
			p.state = csExtEscape
		case !valueByte[c]:
			return ReasonBadChunk
		}
	case csExtEscape:
		if !valueByte[c] {
			return ReasonBadChunk
		}
		p.state = csExtQuoted
	case csExtPostVal:
		switch {
		case isOWS(c):
		case c == ';':
			p.state = csExtPreName
		case c == '\r':
			p.state = csSizeLF
		default:
			return ReasonBadChunk
		}
	case csSizeLF:
		if c != '\n' {
			return ReasonBadChunk // bare CR
		}
		p.line = 0
		if p.size == 0 {
			p.state = csTrailerStart
		} else {
			p.state = csData
		}
	case csDataCR:
		if c != '\r' {
			return ReasonBadChunk // chunk-data longer than its size
		}
		p.state = csDataLF
	case csDataLF:
		if c != '\n' {
			return ReasonBadChunk
		}
		p.state = csSize
	case csTrailerStart:
		switch {
		case c == '\r':
			p.state = csEndLF
		case nameByte[c]:
			p.state = csTrailerName
			p.nameLen = 0
			p.addNameByte(c)
		default:
			return ReasonBadChunk // obs-fold, '_', control characters
		}
	case csTrailerName:
		switch {
		case nameByte[c]:
			p.addNameByte(c)
		case c == ':':
			if p.forbiddenTrailer() {
				return ReasonBadChunk
			}
			p.state = csTrailerValue
		default:
			return ReasonBadChunk // whitespace before the colon
		}
	case csTrailerValue:
		switch {
		case c == '\r':
			p.state = csTrailerLF
		case !valueByte[c]:
			return ReasonBadChunk
		}
	case csTrailerLF:
		if c != '\n' {
			return ReasonBadChunk
		}
		p.state = csTrailerStart
	case csEndLF:
		if c != '\n' {
			return ReasonBadChunk
		}
		p.state = csDone
	}
	return ""
}

func (p *chunkParser) addNameByte(c byte) {
	if p.nameLen < trailerNameMax {
		p.name[p.nameLen] = lower(c)
	}
	p.nameLen++
}

// forbiddenTrailer reports whether the trailer field just named must not
// be sent in a trailer (RFC 9110 §6.5.1): fields that frame or route the
// message, hop-by-hop fields, and the guard's own refusal field. net/http
// keeps trailers apart from the header, but an upstream may merge them.
func (p *chunkParser) forbiddenTrailer() bool {
	if p.nameLen > trailerNameMax {
		return false
	}
	switch string(p.name[:p.nameLen]) {
	case "content-length", "transfer-encoding", "host", "trailer", "connection",
		"keep-alive", "upgrade", "te", "http2-settings", "drawbridge-refusal":
		return true
	}
	return false
}
