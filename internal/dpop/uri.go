package dpop

import (
	"errors"
	"strings"
)

var errBadURI = errors.New("not an absolute http or https URI")

// NormalizeURI returns the form of an http or https URI that htu is
// compared in (RFC 9449 §4.3 check 9): scheme, authority and path, the
// query and fragment dropped, normalised as RFC 3986 §6.2.2 and §6.2.3
// say: scheme and host in lower case, the scheme's default port and an
// empty port removed, percent-encodings in upper case and those of
// unreserved characters decoded, dot segments removed, an empty path made
// "/". Two URIs a server must treat as one compare equal; nothing else is
// changed (no case folding of the path, no decoding of reserved
// characters, no merging of slashes), so that a proof made for one
// resource never passes for another. URIs with user information or
// characters outside RFC 3986 are refused.
func NormalizeURI(s string) (string, error) {
	scheme, rest, ok := strings.Cut(s, "://")
	scheme = strings.ToLower(scheme)
	if !ok || (scheme != "http" && scheme != "https") {
		return "", errBadURI
	}
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	authority, path := rest[:end], rest[end:]
	if i := strings.IndexAny(path, "?#"); i >= 0 {
		path = path[:i]
	}
	host, err := normalizeAuthority(scheme, authority)
	if err != nil {
		return "", err
	}
	p, err := normalizePercent(path)
	if err != nil {
		return "", err
	}
	p = removeDotSegments(p)
	if p == "" {
		p = "/"
	}
	return scheme + "://" + host + p, nil
}

// normalizeAuthority lowercases the host and drops a default or empty
// port.
func normalizeAuthority(scheme, a string) (string, error) {
	if a == "" || strings.ContainsAny(a, "@ ") {
		return "", errBadURI
	}
	host, port := a, ""
	if i := strings.LastIndexByte(a, ':'); i >= 0 && !strings.Contains(a[i:], "]") {
		host, port = a[:i], a[i+1:]
	}
	for _, c := range port {
		if c < '0' || c > '9' {
			return "", errBadURI
		}
	}
	if host == "" {
		return "", errBadURI
	}
	for i := 0; i < len(host); i++ {
		if c := host[i]; c < 0x21 || c > 0x7e || c == '%' {
			return "", errBadURI // registered names here are ASCII (IDNA A-labels)
		}
	}
	host = strings.ToLower(host)
	if port == "" || (scheme == "http" && port == "80") || (scheme == "https" && port == "443") {
		return host, nil
	}
	return host + ":" + port, nil
}

// normalizePercent upper-cases percent-encodings and decodes those of
// unreserved characters (RFC 3986 §6.2.2.1, §6.2.2.2); a malformed
// encoding or a byte no URI path may hold is refused.
func normalizePercent(p string) (string, error) {
	var b strings.Builder
	b.Grow(len(p))
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '%':
			if i+2 >= len(p) || !isHex(p[i+1]) || !isHex(p[i+2]) {
				return "", errBadURI
			}
			v := unhex(p[i+1])<<4 | unhex(p[i+2])
			if unreserved(v) {
				b.WriteByte(v)
			} else {
				b.WriteByte('%')
				b.WriteByte(upper(p[i+1]))
				b.WriteByte(upper(p[i+2]))
			}
			i += 2
		case unreserved(c) || strings.IndexByte("/:@!$&'()*+,;=", c) >= 0:
			b.WriteByte(c)
		default:
			return "", errBadURI
		}
	}
	return b.String(), nil
}

// removeDotSegments is RFC 3986 §5.2.4.
func removeDotSegments(in string) string {
	var out []string // output segments, each with its leading "/"
	for in != "" {
		switch {
		case strings.HasPrefix(in, "../"):
			in = in[3:]
		case strings.HasPrefix(in, "./"):
			in = in[2:]
		case strings.HasPrefix(in, "/./"):
			in = in[2:]
		case in == "/.":
			in = "/"
		case strings.HasPrefix(in, "/../"):
			in = in[3:]
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		case in == "/..":
			in = "/"
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		case in == "." || in == "..":
			in = ""
		default:
			j := strings.IndexByte(in[1:], '/')
			if j < 0 {
				out = append(out, in)
				in = ""
			} else {
				out = append(out, in[:j+1])
				in = in[j+1:]
			}
		}
	}
	return strings.Join(out, "")
}

func unreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~'
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}

func upper(c byte) byte {
	if 'a' <= c && c <= 'f' {
		return c - 'a' + 'A'
	}
	return c
}
