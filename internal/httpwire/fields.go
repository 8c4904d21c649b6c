package httpwire

import (
	"bytes"
	"net/netip"
)

// Byte classes, as tables so that the hot loops are one load per byte.
var (
	// nameByte: tchar (RFC 9110 §5.6.2) except '_'. Names with '_' are
	// refused because some servers (nginx, CGI) map "Transfer_Encoding"
	// to "Transfer-Encoding" when the gateway would not.
	nameByte [256]bool
	// tcharByte: tchar, for methods and chunk extensions.
	tcharByte [256]bool
	// valueByte: field-vchar, SP, HTAB and obs-text (RFC 9110 §5.5): no
	// control character but HTAB, no DEL.
	valueByte [256]bool
	// targetByte: what may appear in a request-target: visible ASCII other
	// than '#'. Control characters, SP, DEL and obs-text are refused.
	targetByte [256]bool
	// hostByte: reg-name characters we accept: RFC 3986 unreserved. Sub-delims
	// and %-escapes are legal in a reg-name but in no real host name, and
	// upstreams decode them differently.
	hostByte [256]bool
)

func init() {
	for c := 0; c < 256; c++ {
		b := byte(c)
		alnum := 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9'
		tcharByte[c] = alnum || bytes.IndexByte([]byte("!#$%&'*+-.^_`|~"), b) >= 0
		nameByte[c] = tcharByte[c] && b != '_'
		valueByte[c] = b == '\t' || b >= 0x20 && b != 0x7f
		targetByte[c] = b > 0x20 && b < 0x7f && b != '#'
		hostByte[c] = alnum || b == '-' || b == '.' || b == '_' || b == '~'
	}
}

// lower returns b in lower case for ASCII letters.
func lower(b byte) byte {
	if 'A' <= b && b <= 'Z' {
		return b + 'a' - 'A'
	}
	return b
}

// equalFold reports whether b equals the lower-case ASCII string s,
// ignoring ASCII case (RFC 9110 §5.1: field names are case-insensitive).
func equalFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range b {
		if lower(b[i]) != s[i] {
			return false
		}
	}
	return true
}

// isOWS reports whether b is SP or HTAB (RFC 9110 §5.6.3).
func isOWS(b byte) bool { return b == ' ' || b == '\t' }

// trimOWS removes leading and trailing SP and HTAB.
func trimOWS(b []byte) []byte {
	for len(b) > 0 && isOWS(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && isOWS(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}

// nextElement splits a comma-separated list value (RFC 9110 §5.6.1) and
// returns its first element, OWS-trimmed, and the rest. Empty elements are
// returned as empty slices, which callers ignore.
func nextElement(v []byte) (elem, rest []byte) {
	if i := bytes.IndexByte(v, ','); i >= 0 {
		return trimOWS(v[:i]), v[i+1:]
	}
	return trimOWS(v), nil
}

// parseContentLength parses a Content-Length value (RFC 9110 §8.6):
// 1*DIGIT, at most 18 digits so that it fits an int64 whatever the digits.
// Signs, "0x", lists ("6, 6") and empty values are refused.
func parseContentLength(v []byte) (int64, bool) {
	if len(v) == 0 || len(v) > 18 {
		return 0, false
	}
	var n int64
	for _, b := range v {
		if b < '0' || b > '9' {
			return 0, false
		}
		n = n*10 + int64(b-'0')
	}
	return n, true
}

// maxHostLen bounds a host name (DNS allows 253) plus room for a port.
const maxHostLen = 255 + len(":65535")

// validHost reports whether v is uri-host [ ":" port ] (RFC 9110 §7.2,
// RFC 3986 §3.2.2), stricter than the RFC: a reg-name may hold only
// unreserved characters; an IP-literal must be an IPv6 address without a
// zone; a port is at most 5 digits and at most 65535. Userinfo ("@") is
// refused. An empty v is valid: RFC 9112 §3.2 has clients send an empty
// Host when the target has no authority; the gateway routes it to its
// default-deny host.
func validHost(v []byte) bool {
	if len(v) == 0 {
		return true
	}
	if len(v) > maxHostLen {
		return false
	}
	host, port, hasPort := v, []byte(nil), false
	if v[0] == '[' {
		end := bytes.IndexByte(v, ']')
		if end < 0 {
			return false
		}
		if !validIPv6(v[1:end]) {
			return false
		}
		rest := v[end+1:]
		if len(rest) > 0 {
			if rest[0] != ':' {
				return false
			}
			port, hasPort = rest[1:], true
		}
	} else {
		if i := bytes.LastIndexByte(v, ':'); i >= 0 {
			host, port, hasPort = v[:i], v[i+1:], true
		}
		if len(host) == 0 {
			return false
		}
		for _, b := range host {
			if !hostByte[b] {
				return false
			}
		}
	}
	return !hasPort || validPort(port)
}

// validPort reports whether p is a port: *DIGIT (empty is allowed by RFC
// 3986 §3.2.3), at most 5 digits, at most 65535.
func validPort(p []byte) bool {
	if len(p) > 5 {
		return false
	}
	n := 0
	for _, b := range p {
		if b < '0' || b > '9' {
			return false
		}
		n = n*10 + int(b-'0')
	}
	return n <= 65535
}

// validIPv6 reports whether b is an IPv6 address as written inside an
// IP-literal, without a zone (RFC 6874 zones have no place in a Host).
func validIPv6(b []byte) bool {
	if len(b) < 2 || len(b) > 45 {
		return false
	}
	for _, c := range b {
		if !(c == ':' || c == '.' || '0' <= c && c <= '9' || 'a' <= lower(c) && lower(c) <= 'f') {
			return false
		}
	}
	a, err := netip.ParseAddr(string(b))
	return err == nil && a.Is6()
}

// validPathEscapes reports whether every '%' in path starts a %HH escape.
// net/http refuses the request otherwise (url.ParseRequestURI); refusing
// it here makes the refusal the gateway's, logged like any other.
func validPathEscapes(path []byte) bool {
	for i := 0; i < len(path); i++ {
		if path[i] != '%' {
			continue
		}
		if i+2 >= len(path) || !isHex(path[i+1]) || !isHex(path[i+2]) {
			return false
		}
		i += 2
	}
	return true
}

// unhex returns the value of the hex digit b, or -1.
func unhex(b byte) int {
	switch {
	case '0' <= b && b <= '9':
		return int(b - '0')
	case 'a' <= b && b <= 'f':
		return int(b-'a') + 10
	case 'A' <= b && b <= 'F':
		return int(b-'A') + 10
	}
	return -1
}

func isHex(b byte) bool { return unhex(b) >= 0 }
