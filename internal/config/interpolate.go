package config

import (
	"errors"
	"fmt"
	"strings"
)

// maxSecretFileBytes bounds ${file:...} reads: a secret is small, and a
// mistyped path to a large file must not bloat the process.
const maxSecretFileBytes = 64 << 10

// interpolator expands references in scalar values:
//
//	${VAR}            the environment variable VAR; an error if unset
//	${VAR:-default}   VAR, or default when VAR is unset or empty
//	${file:PATH}      the contents of PATH, without a trailing newline
//	$${               a literal "${"
//
// Expansion happens on decoded scalar values, never on the YAML text, so a
// variable's value cannot change the structure of the document.
type interpolator struct {
	lookup   func(string) (string, bool)
	readFile func(string) ([]byte, error)
}

func (ip *interpolator) expand(s string) (string, error) {
	if !strings.Contains(s, "$") {
		return s, nil
	}
	var b strings.Builder
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			return b.String(), nil
		}
		if i > 0 && s[i-1] == '$' {
			b.WriteString(s[:i-1])
			b.WriteString("${")
			s = s[i+2:]
			continue
		}
		b.WriteString(s[:i])
		end := strings.IndexByte(s[i:], '}')
		if end < 0 {
			return "", errors.New("unterminated ${ in value (write $${ for a literal ${)")
		}
		ref := s[i+2 : i+end]
		v, err := ip.resolve(ref)
		if err != nil {
			return "", err
		}
		b.WriteString(v)
		s = s[i+end+1:]
	}
}

func (ip *interpolator) resolve(ref string) (string, error) {
	if path, ok := strings.CutPrefix(ref, "file:"); ok {
		if path == "" {
			return "", errors.New("${file:} needs a path")
		}
		data, err := ip.readFile(path)
		if err != nil {
			return "", fmt.Errorf("reading secret file %s: %v", path, errors.Unwrap(err))
		}
		if len(data) > maxSecretFileBytes {
			return "", fmt.Errorf("secret file %s is larger than %d bytes", path, maxSecretFileBytes)
		}
		return strings.TrimRight(string(data), "\r\n"), nil
	}
	name, def, hasDef := strings.Cut(ref, ":-")
	if !validVarName(name) {
		return "", fmt.Errorf("invalid variable reference ${%s}", ref)
	}
	v, ok := ip.lookup(name)
	if hasDef && v == "" {
		return def, nil
	}
	if !ok {
		return "", fmt.Errorf("environment variable %s is not set (write ${%s:-default} to give a default)", name, name)
	}
	return v, nil
}

func validVarName(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		switch {
		case c == '_', c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z':
		case c >= '0' && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}
