package config

import (
	"errors"
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Duration is a time.Duration written as Go duration text ("10s", "1m30s").
type Duration time.Duration

// D returns the value as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// UnmarshalText parses Go duration syntax; a bare number is refused, since
// "10" could mean seconds or nanoseconds.
func (d *Duration) UnmarshalText(b []byte) error {
	s := string(b)
	if s == "0" {
		*d = 0
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("want a duration such as 500ms, 10s or 5m, got %q", s)
	}
	*d = Duration(v)
	return nil
}

// MarshalText prints Go duration syntax.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// ByteSize is a size in bytes, written as an integer or with a unit: B, KB,
// MB, GB (powers of 1000) or KiB, MiB, GiB (powers of 1024).
type ByteSize int64

// UnmarshalText parses "512", "32KiB", "10MB".
func (b *ByteSize) UnmarshalText(t []byte) error {
	v, err := ParseByteSize(string(t))
	if err != nil {
		return err
	}
	*b = v
	return nil
}

// MarshalText prints the value with the largest exact binary unit.
func (b ByteSize) MarshalText() ([]byte, error) {
	for _, u := range []struct {
		s string
		n int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if b != 0 && int64(b)%u.n == 0 {
			return []byte(strconv.FormatInt(int64(b)/u.n, 10) + u.s), nil
		}
	}
	return []byte(strconv.FormatInt(int64(b), 10)), nil
}

var byteUnits = map[string]int64{
	"": 1, "B": 1,
	"KB": 1000, "MB": 1000 * 1000, "GB": 1000 * 1000 * 1000,
	"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30,
}

// ParseByteSize parses a ByteSize.
func ParseByteSize(s string) (ByteSize, error) {
	bad := fmt.Errorf("want a size such as 4096, 32KiB or 10MB, got %q", s)
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 {
		return 0, bad
	}
	n, err := strconv.ParseInt(s[:i], 10, 64)
	if err != nil {
		return 0, bad
	}
	unit, ok := byteUnits[strings.TrimSpace(s[i:])]
	if !ok {
		return 0, bad
	}
	if n > math.MaxInt64/unit {
		return 0, errors.New("size too large")
	}
	return ByteSize(n * unit), nil
}

// Prefix is a network in CIDR notation; a bare address means a single host.
type Prefix struct{ netip.Prefix }

// UnmarshalText parses "10.0.0.0/8", "2001:db8::/32" or "192.0.2.7".
func (p *Prefix) UnmarshalText(t []byte) error {
	s := string(t)
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return fmt.Errorf("want an address or CIDR such as 10.0.0.0/8, got %q", s)
		}
		p.Prefix = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
		return nil
	}
	v, err := netip.ParsePrefix(s)
	if err != nil {
		return fmt.Errorf("want a CIDR such as 10.0.0.0/8, got %q", s)
	}
	if v.Addr().Is4In6() {
		v = netip.PrefixFrom(v.Addr().Unmap(), v.Bits()-96)
	}
	p.Prefix = v.Masked()
	return nil
}

// MarshalText prints CIDR notation.
func (p Prefix) MarshalText() ([]byte, error) { return []byte(p.Prefix.String()), nil }
