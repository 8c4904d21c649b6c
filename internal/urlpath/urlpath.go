// Package urlpath normalises request paths once, so that the gateway judges
// exactly the path it forwards.
//
// Path-based access rules are bypassed when the proxy and the upstream read
// one path two ways: "/%61dmin", "//admin", "/public/%2e%2e/admin",
// "/public/..;/admin" (Tomcat), "/admin%00". Normalize therefore
//
//   - decodes percent-encoded unreserved characters (RFC 3986 §6.2.2.2) and
//     upper-cases the hex digits of every other escape (§6.2.2.1);
//   - merges repeated slashes;
//   - removes "." and ".." segments (§5.2.4), refusing a ".." that would
//     climb above the root;
//   - refuses what has no single safe reading: escaped "/" or "\" and raw
//     "\", escaped or raw control characters and spaces, "%25" (double
//     encoding), malformed escapes, escapes that decode to invalid or
//     overlong UTF-8, raw bytes outside ASCII, ";" path parameters (which
//     Java servers strip) and "#".
//
// The result is the escaped form the gateway forwards; policies, routing
// and the upstream all see that one string.
package urlpath

import (
	"strings"
	"unicode/utf8"
)

// Reason codes of refused paths.
const (
	ReasonBadEncoding      = "path.bad_encoding"      // malformed escape or %25
	ReasonEncodedSeparator = "path.encoded_separator" // %2F, %5C or a raw backslash
	ReasonControl          = "path.control_character" // control characters and spaces
	ReasonNonASCII         = "path.non_ascii"         // raw bytes >= 0x80
	ReasonBadUTF8          = "path.bad_utf8"          // escapes decoding to invalid or overlong UTF-8
	ReasonSemicolon        = "path.semicolon"         // ';' path parameters
	ReasonAboveRoot        = "path.above_root"        // ".." past "/"
	ReasonNotAbsolute      = "path.not_absolute"      // does not start with "/"
	ReasonFragment         = "path.fragment"          // '#'
)

// Reasons lists every reason code Normalize can return.
var Reasons = []string{
	ReasonBadEncoding, ReasonEncodedSeparator, ReasonControl, ReasonNonASCII,
	ReasonBadUTF8, ReasonSemicolon, ReasonAboveRoot, ReasonNotAbsolute, ReasonFragment,
}

// Error is a refused path.
type Error struct{ Code string }

func (e *Error) Error() string { return "urlpath: refused path (" + e.Code + ")" }

// Reason returns the stable reason code.
func (e *Error) Reason() string { return e.Code }

// Options relax the defaults. The zero value is the strict default.
type Options struct {
	// AllowSemicolon accepts ';' in paths, for upstreams that give it no
	// meaning. Off by default because Java servers strip ";..." parameters
	// from segments and so read "/admin;x" as "/admin".
	AllowSemicolon bool
}

// Normalize returns the normalised, escaped form of an origin-form path
// (without the query).
func Normalize(p string, o Options) (string, error) {
	if p == "" || p[0] != '/' {
		return "", &Error{ReasonNotAbsolute}
	}
	if isClean(p) {
		return p, nil
	}
	// Pass 1: validate bytes and canonicalise escapes into b.
	b := make([]byte, 0, len(p))
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '%':
			if i+2 >= len(p) || !isHex(p[i+1]) || !isHex(p[i+2]) {
				return "", &Error{ReasonBadEncoding}
			}
			v := unhex(p[i+1])<<4 | unhex(p[i+2])
			i += 2
			switch {
			case v == '/' || v == '\\':
				return "", &Error{ReasonEncodedSeparator}
			case v == '%':
				return "", &Error{ReasonBadEncoding}
			case v <= ' ' || v == 0x7f:
				return "", &Error{ReasonControl}
			case v == ';' && !o.AllowSemicolon:
				return "", &Error{ReasonSemicolon}
			case v == '#':
				return "", &Error{ReasonFragment}
			case isUnreserved(v):
				b = append(b, v)
			default:
				b = append(b, '%', upperHex[v>>4], upperHex[v&0xf])
			}
		case c == '\\':
			return "", &Error{ReasonEncodedSeparator}
		case c <= ' ' || c == 0x7f:
			return "", &Error{ReasonControl}
		case c >= 0x80:
			return "", &Error{ReasonNonASCII}
		case c == ';' && !o.AllowSemicolon:
			return "", &Error{ReasonSemicolon}
		case c == '#':
			return "", &Error{ReasonFragment}
		case c == '?':
			// A caller passes the path without its query; a '?' here
			// could only come from a decoded %3F, which stays escaped.
			b = append(b, "%3F"...)
		default:
			b = append(b, c)
		}
	}
	if err := checkEscapedUTF8(b); err != nil {
		return "", err
	}
	return removeDotSegments(string(b))
}

// isClean reports whether p is already normal: only unreserved characters,
// sub-delimiters, ':', '@' and '/', no empty, "." or ".." segments. Most
// requests take this path, which allocates nothing.
func isClean(p string) bool {
	segStart := 0
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c == '/' {
			if i > 0 && !cleanSegment(p[segStart:i]) {
				return false
			}
			segStart = i + 1
			continue
		}
		if c >= 0x80 || !cleanChars[c] {
			return false
		}
	}
	return segStart == len(p) || cleanSegment(p[segStart:])
}

func cleanSegment(s string) bool { return s != "" && s != "." && s != ".." }

var cleanChars = func() (t [128]bool) {
	for _, c := range "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,=:@" {
		t[c] = true
	}
	return
}()

func removeDotSegments(p string) (string, error) {
	segs := strings.Split(p[1:], "/")
	out := make([]string, 0, len(segs))
	trailing := false
	for i, s := range segs {
		last := i == len(segs)-1
		switch s {
		case "", ".":
			// An empty segment merges repeated slashes; ending on one, or
			// on ".", keeps a trailing slash.
			trailing = last
		case "..":
			if len(out) == 0 {
				return "", &Error{ReasonAboveRoot}
			}
			out = out[:len(out)-1]
			trailing = last
		default:
			out = append(out, s)
			trailing = false
		}
	}
	res := "/" + strings.Join(out, "/")
	if trailing && len(out) > 0 {
		res += "/"
	}
	return res, nil
}

// checkEscapedUTF8 decodes the escapes of b and refuses invalid UTF-8,
// which includes overlong forms such as %C0%AE (an old "." bypass).
func checkEscapedUTF8(b []byte) error {
	var dec []byte
	for i := 0; i < len(b); i++ {
		if b[i] != '%' {
			continue
		}
		v := unhex(b[i+1])<<4 | unhex(b[i+2])
		if v < 0x80 {
			continue
		}
		if dec == nil {
			dec = make([]byte, 0, 16)
		}
		dec = dec[:0]
		// Collect the run of consecutive escaped high bytes.
		j := i
		for j+2 < len(b) && b[j] == '%' {
			w := unhex(b[j+1])<<4 | unhex(b[j+2])
			if w < 0x80 {
				break
			}
			dec = append(dec, w)
			j += 3
		}
		if !utf8.Valid(dec) {
			return &Error{ReasonBadUTF8}
		}
		i = j - 1
	}
	return nil
}

func isUnreserved(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~'
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

const upperHex = "0123456789ABCDEF"
