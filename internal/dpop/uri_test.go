package dpop_test

import (
	"testing"

	"github.com/drawbridge-gw/drawbridge/internal/dpop"
)

func TestNormalizeURI(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"https://server.example.com/token", "https://server.example.com/token"},
		{"HTTPS://Server.Example.COM:443/token?x=1#f", "https://server.example.com/token"},
		{"http://a.test:80", "http://a.test/"},
		{"http://a.test:", "http://a.test/"},
		{"http://a.test:8080/", "http://a.test:8080/"},
		{"https://a.test/%7euser/%2fx/%c3%a9", "https://a.test/~user/%2Fx/%C3%A9"},
		{"https://a.test/a/./b/../c", "https://a.test/a/c"},
		{"https://a.test/../../a", "https://a.test/a"},
		{"https://a.test/a//b/", "https://a.test/a//b/"},
		{"https://a.test/A", "https://a.test/A"},
		{"https://[::1]:8443/x", "https://[::1]:8443/x"},
		{"https://a.test?q", "https://a.test/"},
	} {
		got, err := dpop.NormalizeURI(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("NormalizeURI(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "/token", "ftp://a.test/", "https://user@a.test/", "https://a.test/%zz", "https://a.test/a b", "https://a.test:x/", "https:///x", "https://a.test/\xff"} {
		if got, err := dpop.NormalizeURI(bad); err == nil {
			t.Errorf("NormalizeURI(%q) = %q, want an error", bad, got)
		}
	}
}
