package urlpath

import (
	"errors"
	"testing"
)

func TestNormalize(t *testing.T) {
	tests := []struct {
		in, want, reason string
	}{
		{in: "/", want: "/"},
		{in: "/api/products", want: "/api/products"},
		{in: "/api/products/", want: "/api/products/"},
		{in: "/%61pi/products", want: "/api/products"},
		{in: "//api", want: "/api"},
		{in: "/api//x///y", want: "/api/x/y"},
		{in: "/./api", want: "/api"},
		{in: "/public/../api", want: "/api"},
		{in: "/public/%2e%2e/api", want: "/api"},
		{in: "/public/%2E%2E/api", want: "/api"},
		{in: "/.%2e/api", reason: ReasonAboveRoot},
		{in: "/%2e/api", want: "/api"},
		{in: "/api/.", want: "/api/"},
		{in: "/a/b/..", want: "/a/"},
		{in: "/api/..", want: "/"},
		{in: "/..", reason: ReasonAboveRoot},
		{in: "/caf%c3%a9", want: "/caf%C3%A9"},
		{in: "/a%3fb", want: "/a%3Fb"},
		{in: "/a:b@c!$&'()*+,=", want: "/a:b@c!$&'()*+,="},
		{in: "/%7euser", want: "/~user"},
		{in: "/public/..%2fapi", reason: ReasonEncodedSeparator},
		{in: "/public%2f..%2fapi", reason: ReasonEncodedSeparator},
		{in: "/api%2F", reason: ReasonEncodedSeparator},
		{in: "/public\\..\\api", reason: ReasonEncodedSeparator},
		{in: "/public/%5c../api", reason: ReasonEncodedSeparator},
		{in: "/api;jsessionid=x", reason: ReasonSemicolon},
		{in: "/public/..;/api", reason: ReasonSemicolon},
		{in: "/api%3b", reason: ReasonSemicolon},
		{in: "/api%00", reason: ReasonControl},
		{in: "/api%20", reason: ReasonControl},
		{in: "/api%09", reason: ReasonControl},
		{in: "/api%7F", reason: ReasonControl},
		{in: "/api x", reason: ReasonControl},
		{in: "/public/%c0%ae%c0%ae/api", reason: ReasonBadUTF8},
		{in: "/public%c0%afapi", reason: ReasonBadUTF8},
		{in: "/x%ff", reason: ReasonBadUTF8},
		{in: "/public/%252e%252e/api", reason: ReasonBadEncoding},
		{in: "/public/%%32%65%%32%65/api", reason: ReasonBadEncoding},
		{in: "/a%2", reason: ReasonBadEncoding},
		{in: "/a%zz", reason: ReasonBadEncoding},
		{in: "/public/\uff0e\uff0e/api", reason: ReasonNonASCII},
		{in: "/\uff41pi", reason: ReasonNonASCII},
		{in: "/api#", reason: ReasonFragment},
		{in: "/api%23", reason: ReasonFragment},
		{in: "api", reason: ReasonNotAbsolute},
		{in: "", reason: ReasonNotAbsolute},
	}
	for _, tt := range tests {
		got, err := Normalize(tt.in, Options{})
		if tt.reason != "" {
			var e *Error
			if !errors.As(err, &e) || e.Code != tt.reason {
				t.Errorf("Normalize(%q) = %q, %v; want reason %s", tt.in, got, err, tt.reason)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("Normalize(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
		// Normal forms are fixed points.
		if again, err := Normalize(got, Options{}); err != nil || again != got {
			t.Errorf("Normalize(Normalize(%q)) = %q, %v; want fixed point %q", tt.in, again, err, got)
		}
	}
}

func TestNormalizeAllowSemicolon(t *testing.T) {
	got, err := Normalize("/a;b=1/c", Options{AllowSemicolon: true})
	if err != nil || got != "/a;b=1/c" {
		t.Fatalf("got %q, %v", got, err)
	}
}

func TestCleanPathDoesNotAllocate(t *testing.T) {
	n := testing.AllocsPerRun(100, func() {
		if _, err := Normalize("/api/v1/products/1234", Options{}); err != nil {
			t.Fatal(err)
		}
	})
	if n != 0 {
		t.Fatalf("allocs = %v, want 0", n)
	}
}

func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"/", "/api/x", "/%61pi", "//a/../b", "/a/%2e%2e/b", "/%c3%a9", "/a;b", "/%c0%ae", "/a/./b/../../c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out, err := Normalize(in, Options{})
		if err != nil {
			return
		}
		if out == "" || out[0] != '/' {
			t.Fatalf("Normalize(%q) = %q: not absolute", in, out)
		}
		again, err := Normalize(out, Options{})
		if err != nil || again != out {
			t.Fatalf("not idempotent: %q -> %q -> %q, %v", in, out, again, err)
		}
		for i := 0; i+1 < len(out); i++ {
			if out[i] == '/' && out[i+1] == '/' {
				t.Fatalf("Normalize(%q) = %q keeps //", in, out)
			}
		}
	})
}

func BenchmarkNormalizeClean(b *testing.B) {
	for b.Loop() {
		_, _ = Normalize("/api/v1/products/1234", Options{})
	}
}

func BenchmarkNormalizeEscaped(b *testing.B) {
	for b.Loop() {
		_, _ = Normalize("/api/v1/%70roducts/./1234", Options{})
	}
}
