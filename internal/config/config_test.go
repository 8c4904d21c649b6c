package config

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func env(m map[string]string) Source {
	return Source{LookupEnv: func(k string) (string, bool) { v, ok := m[k]; return v, ok }}
}

func TestBrokenConfigReportsEveryProblem(t *testing.T) {
	_, err := Load("testdata/broken.yaml", env(nil))
	var errs Errors
	if !errors.As(err, &errs) {
		t.Fatalf("err = %v, want Errors", err)
	}
	want, _ := os.ReadFile("testdata/broken.golden")
	if diff := cmp.Diff(strings.TrimSpace(string(want)), err.Error()); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
}

func TestExamplesLoad(t *testing.T) {
	files, _ := filepath.Glob("../../examples/*.yaml")
	if len(files) == 0 {
		t.Fatal("no examples found")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			if _, err := Load(f, env(map[string]string{})); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	f, err := Parse("min.yaml", []byte("upstreams: {a: {url: 'http://127.0.0.1:1'}}\nroutes: [{upstream: a}]\n"), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	c := f.Config
	if c.Listen != DefaultListen || c.Limits.ReadHeaderTimeout.D() != 10*time.Second || c.Routes[0].Name != "routes[0]" ||
		c.Routes[0].MaxBodyBytes != DefaultMaxBodyBytes || c.Upstreams["a"].MaxIdleConns != DefaultMaxIdleConns || !c.Log.DecisionsEnabled() {
		t.Errorf("defaults not applied: %+v", c)
	}
}

func TestInterpolation(t *testing.T) {
	dir := t.TempDir()
	secret := filepath.Join(dir, "secret")
	if err := os.WriteFile(secret, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, in, want, err string
	}{
		{name: "plain", in: "abc", want: "abc"},
		{name: "var", in: "${HOST}:80", want: "example:80"},
		{name: "default used", in: "${NOPE:-fallback}", want: "fallback"},
		{name: "default for empty", in: "${EMPTY:-fallback}", want: "fallback"},
		{name: "default unused", in: "${HOST:-x}", want: "example"},
		{name: "escape", in: "$${HOST}", want: "${HOST}"},
		{name: "file", in: "${file:" + secret + "}", want: "s3cret"},
		{name: "unset", in: "${NOPE}", err: "environment variable NOPE is not set"},
		{name: "unterminated", in: "${HOST", err: "unterminated"},
		{name: "bad name", in: "${1X}", err: "invalid variable reference"},
		{name: "missing file", in: "${file:/nonexistent/x}", err: "reading secret file"},
	}
	ip := &interpolator{lookup: env(map[string]string{"HOST": "example", "EMPTY": ""}).LookupEnv, readFile: os.ReadFile}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ip.expand(tt.in)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("expand(%q) = %q, %v; want error containing %q", tt.in, got, err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("expand(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestInterpolationCannotInjectStructure(t *testing.T) {
	// A variable holding YAML stays one string value.
	f, err := Parse("x.yaml", []byte("listen: ${L}\nupstreams: {a: {url: 'http://127.0.0.1:1'}}\nroutes: [{upstream: a}]\n"),
		env(map[string]string{"L": "127.0.0.1:1\nadmin: {listen: 0.0.0.0:1}"}))
	if err == nil {
		t.Fatalf("injected value accepted: admin=%q", f.Config.Admin.Listen)
	}
	if !strings.Contains(err.Error(), "listen: want host:port") {
		t.Fatalf("err = %v", err)
	}
}

func TestSyntaxAndShapeErrors(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"syntax", "a: 1\nb:\n\tc: 1\n", "x.yaml:3:1: YAML syntax: found character that cannot start any token"},
		{"two docs", "listen: a:1\n---\nlisten: b:1\n", "only one YAML document"},
		{"list for map", "upstreams: [1]\n", "x.yaml:1:12: upstreams: want a mapping, got a list"},
		{"dup key", "listen: 127.0.0.1:1\nlisten: 127.0.0.1:2\n", `x.yaml:2:1: listen: field "listen" is set twice`},
		{"merge key", "admin:\n  <<: {listen: a}\n", "merge keys"},
		{"no routes", "upstreams: {a: {url: 'http://x'}}\n", "routes: at least one route is required"},
		{"bad policy", "upstreams: {a: {url: 'http://x'}}\nroutes: [{upstream: a, policies: [{}]}]\n", "a policy names exactly one layer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("x.yaml", []byte(tt.in), env(nil))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestByteSize(t *testing.T) {
	for in, want := range map[string]ByteSize{"0": 0, "512": 512, "32KiB": 32 << 10, "10MB": 10e6, "1 GiB": 1 << 30} {
		got, err := ParseByteSize(in)
		if err != nil || got != want {
			t.Errorf("ParseByteSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "KiB", "-1", "1.5MiB", "99999999999999999999", "9223372036854775807GiB"} {
		if _, err := ParseByteSize(in); err == nil {
			t.Errorf("ParseByteSize(%q) accepted", in)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"listen: a:1\n", "routes: [{upstream: a, policies: [{ip: {allow: [1.2.3.4]}}]}]\n", "a: &x [*x]\n", "{"} {
		f.Add([]byte(s))
	}
	if b, err := os.ReadFile("testdata/broken.yaml"); err == nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = Parse("fuzz.yaml", b, env(nil))
	})
}

func TestAliasBombsAreBounded(t *testing.T) {
	var b strings.Builder
	b.WriteString("upstreams: {a: {url: 'http://x'}}\nx0: &a0 [1.2.3.4]\n")
	for i := 1; i < 30; i++ {
		b.WriteString("x" + string(rune('a'+i%26)) + ": &a" + itoa(i) + " [")
		for j := 0; j < 9; j++ {
			b.WriteString("*a" + itoa(i-1) + ",")
		}
		b.WriteString("*a" + itoa(i-1) + "]\n")
	}
	b.WriteString("trusted_proxies: *a29\nroutes: [{upstream: a}]\n")
	done := make(chan error, 1)
	go func() { _, err := Parse("bomb.yaml", []byte(b.String()), env(nil)); done <- err }()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("alias bomb accepted")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("alias bomb not bounded")
	}
	_, err := Parse("self.yaml", []byte("trusted_proxies: &x [*x]\n"), env(nil))
	if err == nil {
		t.Fatal("self-referential alias accepted")
	}
}

func itoa(i int) string { return strconv.Itoa(i) }
