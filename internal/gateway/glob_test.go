package gateway

import "testing"

func TestGlob(t *testing.T) {
	tests := []struct {
		pat, s string
		want   bool
	}{
		{"curl/*", "curl/8.1", true},
		{"curl/*", "CURL/8.1", true},
		{"curl/*", "xcurl/8.1", false},
		{"*bot*", "Mozilla (compatible; Googlebot/2.1)", true},
		{"*bot*", "Mozilla", false},
		{"a*b", "ab", true},
		{"ab*ba", "aba", false},
		{"ab*ba", "abba", true},
		{"exact", "EXACT", true},
		{"exact", "exact ", false},
		{"*", "", true},
		{"a*b*c", "axxbyyc", true},
		{"a*b*c", "axxcyyb", false},
	}
	for _, tt := range tests {
		var buf [512]byte
		if got := compileGlob(tt.pat).match(lowerASCII(tt.s, buf[:])); got != tt.want {
			t.Errorf("glob %q on %q = %v, want %v", tt.pat, tt.s, got, tt.want)
		}
	}
	long := make([]byte, 600)
	for i := range long {
		long[i] = 'A'
	}
	if !compileGlob("*aaa").match(lowerASCII(string(long), make([]byte, 512))) {
		t.Error("long subject")
	}
}
