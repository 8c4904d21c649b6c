package cli_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/drawbridge-gw/drawbridge/internal/cli"
	"github.com/drawbridge-gw/drawbridge/internal/token"
)

// runIn is run with standard input.
func runIn(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	var out, errOut bytes.Buffer
	root := cli.RunWithInput(ctx, args, strings.NewReader(stdin), &out, &errOut)
	return root, out.String(), errOut.String()
}

// generated runs 'keys generate' and returns the key it wrote.
func generated(t *testing.T, alg string) (dir string, k *token.Key) {
	t.Helper()
	dir = filepath.Join(t.TempDir(), "keys")
	code, out, errOut := run(t, "keys", "generate", "--alg", alg, "--out", dir)
	if code != cli.ExitOK {
		t.Fatalf("keys generate: %d %s", code, errOut)
	}
	st, err := os.Stat(filepath.Join(dir, "private.pem"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("private.pem mode %v, %v", st.Mode(), err)
	}
	pemBytes, _ := os.ReadFile(filepath.Join(dir, "private.pem"))
	set, err := token.ParseKeys(pemBytes)
	if err != nil {
		t.Fatal(err)
	}
	jwksBytes, _ := os.ReadFile(filepath.Join(dir, "jwks.json"))
	pub, err := token.ParseJWKS(jwksBytes)
	if err != nil || pub.Len() != 1 {
		t.Fatalf("jwks.json: %v", err)
	}
	p := pub.Keys()[0]
	tp, _ := token.Thumbprint(p.Public())
	if p.KID() != tp || p.Alg() != alg || !strings.Contains(out, tp) {
		t.Fatalf("jwks key kid %q alg %q, want thumbprint %q and %s", p.KID(), p.Alg(), tp, alg)
	}
	k, err = token.NewKey(set.Keys()[0].Private(), p.KID(), alg)
	if err != nil {
		t.Fatal(err)
	}
	return dir, k
}

func signed(t *testing.T, k *token.Key, claims map[string]any) string {
	t.Helper()
	s, err := token.NewSigner(k, k.Alg())
	if err != nil {
		t.Fatal(err)
	}
	tok, err := s.Sign(claims, "at+jwt")
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestTokenVerify(t *testing.T) {
	dir, k := generated(t, "EdDSA")
	jwks := filepath.Join(dir, "jwks.json")
	exp := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	tok := signed(t, k, map[string]any{"iss": "https://id.test", "aud": "api", "sub": "alice", "exp": exp.Unix()})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := os.ReadFile(jwks)
		_, _ = w.Write(b)
	}))
	defer srv.Close()
	noAlg := filepath.Join(t.TempDir(), "noalg.json")
	_, edPriv, _ := ed25519.GenerateKey(rand.Reader)
	nk, _ := token.NewKey(edPriv.Public(), "n", "")
	b, _ := token.PublicJWKS(nk)
	_ = os.WriteFile(noAlg, b, 0o644)
	pasetoKey, _ := token.NewKey(edPriv, "", token.AlgPASETOPublic)
	paserk, _ := token.PASERK(pasetoKey)
	paserkFile := filepath.Join(t.TempDir(), "k4.public")
	_ = os.WriteFile(paserkFile, []byte(paserk+"\n"), 0o644)
	pclaims, _ := json.Marshal(map[string]any{"sub": "bob", "exp": exp.Format(time.RFC3339)})
	paseto := token.PASETOSign(edPriv, pclaims, nil, nil)

	for _, tc := range []struct {
		name   string
		stdin  string
		args   []string
		code   int
		reason string
		inOut  string
	}{
		{"valid", "", []string{"--jwks", jwks, "--iss", "https://id.test", "--aud", "api", "--at", "2029-06-01T00:00:00Z", tok}, 0, "", `"sub": "alice"`},
		{"valid from stdin", tok + "\n", []string{"--jwks", jwks, "--at", "2029-06-01T00:00:00Z", "-"}, 0, "", `"valid": true`},
		{"valid from a JWKS URL", "", []string{"--jwks", srv.URL, "--at", "2029-06-01T00:00:00Z", tok}, 0, "", `"valid": true`},
		{"expired", "", []string{"--jwks", jwks, "--at", "2030-01-01T00:00:00Z", tok}, 1, "token.expired", ""},
		{"wrong issuer", "", []string{"--jwks", jwks, "--iss", "https://other.test", "--at", "2029-06-01T00:00:00Z", tok}, 1, "token.issuer", ""},
		{"wrong audience", "", []string{"--jwks", jwks, "--aud", "other", "--at", "2029-06-01T00:00:00Z", tok}, 1, "token.audience", ""},
		{"alg not listed", "", []string{"--jwks", jwks, "--alg", "ES256", "--at", "2029-06-01T00:00:00Z", tok}, 1, "token.alg_not_allowed", ""},
		{"alg none", "", []string{"--jwks", jwks, "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."}, 1, "token.alg_none", ""},
		{"PASETO with a PASERK", "", []string{"--key", paserkFile, "--at", "2029-06-01T00:00:00Z", paseto}, 0, "", `"format": "v4.public"`},
		{"keys without alg need --alg", "", []string{"--jwks", noAlg, tok}, 2, "", ""},
		{"keys without alg with --alg", "", []string{"--jwks", noAlg, "--alg", "EdDSA", "--at", "2029-06-01T00:00:00Z", tok}, 1, "token.unknown_kid", ""},
		{"bad --at", "", []string{"--jwks", jwks, "--at", "yesterday", tok}, 2, "", ""},
		{"no keys", "", []string{tok}, 2, "", ""},
		{"unknown alg", "", []string{"--jwks", jwks, "--alg", "XS256", tok}, 2, "", ""},
		{"no token", "", []string{"--jwks", jwks}, 2, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runIn(t, tc.stdin, append([]string{"token", "verify"}, tc.args...)...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, out, errOut)
			}
			if tc.code == 2 {
				if !strings.Contains(errOut, "drawbridge:") {
					t.Errorf("usage error without a message: %q", errOut)
				}
				return
			}
			var v struct {
				Valid  bool   `json:"valid"`
				Reason string `json:"reason"`
			}
			if err := json.Unmarshal([]byte(out), &v); err != nil {
				t.Fatalf("verdict is not JSON: %v\n%s", err, out)
			}
			if v.Reason != tc.reason || v.Valid != (tc.code == 0) {
				t.Fatalf("verdict %+v, want reason %q", v, tc.reason)
			}
			if !strings.Contains(out, tc.inOut) {
				t.Errorf("stdout lacks %s:\n%s", tc.inOut, out)
			}
		})
	}
	if code, _, errOut := run(t, "token", "verify", "--jwks", noAlg, tok); code != 2 || !strings.Contains(errOut, "declares no alg") {
		t.Errorf("keys without alg: %d %q", code, errOut)
	}
}

func TestTokenInspect(t *testing.T) {
	code, out, _ := runIn(t, "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln", "token", "inspect")
	if code != 0 || !strings.Contains(out, "NOT VERIFIED") || !strings.Contains(out, `"sub": "x"`) {
		t.Fatalf("inspect: %d\n%s", code, out)
	}
	code, out, _ = run(t, "token", "inspect", "eyJhbGciOiJFUzI1NiJ9=.e30.c2ln")
	if code != 1 || !strings.Contains(out, "token.bad_encoding") {
		t.Fatalf("inspect of a padded token: %d\n%s", code, out)
	}
}

func TestKeysGenerate(t *testing.T) {
	for _, alg := range []string{"EdDSA", "ES256", "RS256"} {
		t.Run(alg, func(t *testing.T) {
			dir, k := generated(t, alg)
			tok := signed(t, k, map[string]any{"sub": "s", "exp": time.Now().Unix() + 60})
			code, out, _ := run(t, "token", "verify", "--jwks", filepath.Join(dir, "jwks.json"), tok)
			if code != 0 {
				t.Fatalf("a token signed with the generated key: %d\n%s", code, out)
			}
			if code, _, errOut := run(t, "keys", "generate", "--alg", alg, "--out", dir); code != 1 || !strings.Contains(errOut, "not overwriting") {
				t.Fatalf("second generate into the same dir: %d %s", code, errOut)
			}
		})
	}
	if code, _, _ := run(t, "keys", "generate", "--alg", "HS256", "--out", t.TempDir()); code != 2 {
		t.Fatalf("HS256: exit %d, want 2", code)
	}
}
