package token_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/drawbridge-gw/drawbridge/internal/testenv"
	"github.com/drawbridge-gw/drawbridge/internal/token"
)

// nodeInterop returns a directory with npm's jose@6 and paseto@4
// installed (the git-ignored .cache/interop of the repository), installing
// them when missing, and the interop script copied in.
func nodeInterop(t *testing.T) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	pkg := filepath.Dir(file)
	dir := filepath.Join(pkg, "..", "..", ".cache", "interop")
	testenv.NPM(t, dir, "jose@6", "paseto@4")
	script, err := os.ReadFile(filepath.Join(pkg, "testdata", "interop", "interop.mjs"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "interop.mjs"), script, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func runTool(t *testing.T, dir string, input any, name string, args ...string) []byte {
	t.Helper()
	in, _ := json.Marshal(input)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr.Bytes())
	}
	return out
}

// TestInteropNodeJose: tokens npm's jose and paseto mint verify here, and
// tokens drawbridge mints verify there: ES256, EdDSA, RS256, PS256, a
// nested JWE (ECDH-ES+A256KW/A256GCM) and PASETO v4.public.
func TestInteropNodeJose(t *testing.T) {
	dir := nodeInterop(t)
	ctx := context.Background()

	// Their tokens, our verifier.
	encKey, err := token.NewKey(must(ecdsa.GenerateKey(elliptic.P256(), rand.Reader)), "go-enc", "")
	if err != nil {
		t.Fatal(err)
	}
	var recipient map[string]any
	_ = json.Unmarshal(must(encKey.PublicJWK()), &recipient)
	var minted struct {
		JWKS   json.RawMessage   `json:"jwks"`
		Tokens map[string]string `json:"tokens"`
		PASERK string            `json:"paserk"`
	}
	if err := json.Unmarshal(runTool(t, dir, map[string]any{"recipient": recipient}, "node", "interop.mjs", "mint"), &minted); err != nil {
		t.Fatal(err)
	}
	jwks, err := token.ParseJWKS(minted.JWKS)
	if err != nil {
		t.Fatal(err)
	}
	paserk, err := token.ParseKeys([]byte(minted.PASERK))
	if err != nil {
		t.Fatal(err)
	}
	v, err := token.NewVerifier(token.Config{
		Issuers: []token.IssuerConfig{{
			Issuer: "https://node.test", Keys: []token.KeySource{jwks, paserk},
			Algorithms: []string{"ES256", "EdDSA", "RS256", "PS256", token.AlgPASETOPublic},
			Audiences:  []string{"https://api.test"}, Type: "at+jwt",
		}},
		JWE: &token.JWEConfig{Keys: token.NewKeySet(encKey)},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"ES256", "EdDSA", "RS256", "PS256", "JWE", "v4.public"} {
		tok, err := v.Verify(ctx, minted.Tokens[name])
		if err != nil {
			t.Errorf("jose's %s: %v", name, err)
			continue
		}
		if tok.Claims.Subject != "node-user" {
			t.Errorf("jose's %s: sub %q", name, tok.Claims.Subject)
		}
	}

	// Our tokens, their verifier.
	es, ed := mustKey(t, "ES256"), mustKey(t, "EdDSA")
	rsaPriv := must(rsa.GenerateKey(rand.Reader, 2048))
	rs := must(token.NewKey(rsaPriv, "go-rs", "RS256"))
	ps := must(token.NewKey(rsaPriv, "go-ps", "PS256"))
	claims := map[string]any{"iss": "https://go.test", "aud": "https://api.test", "sub": "go-user", "iat": time.Now().Unix(), "exp": time.Now().Unix() + 600}
	tokens := map[string]string{}
	for _, k := range []*token.Key{es, ed, rs, ps} {
		s := must(token.NewSigner(k, k.Alg()))
		tokens[k.Alg()] = must(s.Sign(claims, "at+jwt"))
	}
	dec := must(token.NewKey(must(ecdsa.GenerateKey(elliptic.P256(), rand.Reader)), "node-enc", ""))
	jwe := must(token.Encrypt([]byte(tokens["ES256"]), dec, "ECDH-ES+A256KW", "A256GCM", true))
	privJWK := must(json.Marshal(jose.JSONWebKey{Key: dec.Private(), KeyID: "node-enc"}))
	_, edPriv, _ := ed25519.GenerateKey(rand.Reader)
	pk := must(token.NewKey(edPriv, "", token.AlgPASETOPublic))
	now := time.Now().UTC()
	pclaims := must(json.Marshal(map[string]any{"iss": "https://go.test", "sub": "go-user", "iat": now.Format(time.RFC3339), "exp": now.Add(10 * time.Minute).Format(time.RFC3339)}))
	paseto := token.PASETOSign(edPriv, pclaims, nil, nil)
	tampered := []byte(tokens["ES256"])
	tampered[60] ^= 1
	var verdicts map[string]string
	if err := json.Unmarshal(runTool(t, dir, map[string]any{
		"iss": "https://go.test", "aud": "https://api.test",
		"jwks":   json.RawMessage(must(token.PublicJWKS(es, ed, rs, ps))),
		"tokens": tokens, "jwe": jwe, "decrypt": json.RawMessage(privJWK),
		"paserk": must(token.PASERK(pk)), "paseto": paseto, "tampered": string(tampered),
	}, "node", "interop.mjs", "verify"), &verdicts); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"ES256", "EdDSA", "RS256", "PS256", "JWE", "v4.public"} {
		if verdicts[name] != "ok" {
			t.Errorf("jose on drawbridge's %s: %s", name, verdicts[name])
		}
	}
	if verdicts["tampered"] != "refused" {
		t.Errorf("jose accepted a tampered token: %s", verdicts["tampered"])
	}
	t.Logf("npm jose/paseto: 6 kinds each way; verdicts %v", verdicts)
}

func mustKey(t testing.TB, alg string) *token.Key {
	t.Helper()
	k, err := token.GenerateKey(alg)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestInteropPythonJoserfc: the same both ways with the Python joserfc
// library that ships on these machines: ES256, EdDSA, RS256, PS256 and a
// nested JWE (ECDH-ES+A256KW/A256GCM).
func TestInteropPythonJoserfc(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		testenv.Need(t, "python3", err)
	}
	if out, err := exec.Command("python3", "-c", "import joserfc").CombinedOutput(); err != nil {
		testenv.Need(t, "the Python joserfc library", fmt.Errorf("%v: %s", err, out))
	}
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(file), "testdata", "interop")
	const script = "interop_joserfc.py"
	ctx := context.Background()
	algs := []string{"ES256", "EdDSA", "RS256", "PS256"}

	// Their tokens, our verifier.
	encKey := must(token.NewKey(must(ecdsa.GenerateKey(elliptic.P256(), rand.Reader)), "go-enc", ""))
	var recipient map[string]any
	_ = json.Unmarshal(must(encKey.PublicJWK()), &recipient)
	var minted struct {
		JWKS   json.RawMessage   `json:"jwks"`
		Tokens map[string]string `json:"tokens"`
	}
	if err := json.Unmarshal(runTool(t, dir, map[string]any{"recipient": recipient}, "python3", script, "mint"), &minted); err != nil {
		t.Fatal(err)
	}
	jwks := must(token.ParseJWKS(minted.JWKS))
	v := must(token.NewVerifier(token.Config{
		Issuers: []token.IssuerConfig{{
			Issuer: "https://python.test", Keys: []token.KeySource{jwks},
			Algorithms: algs, Audiences: []string{"https://api.test"}, Type: "at+jwt",
		}},
		JWE: &token.JWEConfig{Keys: token.NewKeySet(encKey)},
	}))
	for _, name := range append(algs, "JWE") {
		tok, err := v.Verify(ctx, minted.Tokens[name])
		if err != nil {
			t.Errorf("joserfc's %s: %v", name, err)
			continue
		}
		if tok.Claims.Subject != "python-user" {
			t.Errorf("joserfc's %s: sub %q", name, tok.Claims.Subject)
		}
	}

	// Our tokens, their verifier.
	rsaPriv := must(rsa.GenerateKey(rand.Reader, 2048))
	keys := []*token.Key{mustKey(t, "ES256"), mustKey(t, "EdDSA"), must(token.NewKey(rsaPriv, "go-rs", "RS256")), must(token.NewKey(rsaPriv, "go-ps", "PS256"))}
	claims := map[string]any{"iss": "https://go.test", "aud": "https://api.test", "sub": "go-user", "iat": time.Now().Unix(), "exp": time.Now().Unix() + 600}
	tokens := map[string]string{}
	for _, k := range keys {
		tokens[k.Alg()] = must(must(token.NewSigner(k, k.Alg())).Sign(claims, "at+jwt"))
	}
	dec := must(token.NewKey(must(ecdsa.GenerateKey(elliptic.P256(), rand.Reader)), "py-enc", ""))
	jwe := must(token.Encrypt([]byte(tokens["ES256"]), dec, "ECDH-ES+A256KW", "A256GCM", true))
	privJWK := must(json.Marshal(jose.JSONWebKey{Key: dec.Private(), KeyID: "py-enc"}))
	tampered := []byte(tokens["ES256"])
	tampered[60] ^= 1
	var verdicts map[string]string
	if err := json.Unmarshal(runTool(t, dir, map[string]any{
		"iss": "https://go.test", "aud": "https://api.test",
		"jwks":   json.RawMessage(must(token.PublicJWKS(keys...))),
		"tokens": tokens, "jwe": jwe, "decrypt": json.RawMessage(privJWK), "tampered": string(tampered),
	}, "python3", script, "verify"), &verdicts); err != nil {
		t.Fatal(err)
	}
	for _, name := range append(algs, "JWE") {
		if verdicts[name] != "ok" {
			t.Errorf("joserfc on drawbridge's %s: %s", name, verdicts[name])
		}
	}
	if verdicts["tampered"] != "refused" {
		t.Errorf("joserfc accepted a tampered token: %s", verdicts["tampered"])
	}
	t.Logf("Python joserfc: 5 kinds each way; verdicts %v", verdicts)
}
