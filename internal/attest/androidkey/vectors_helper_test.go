package androidkey

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// The conformance vectors are read in place, never copied into the
// repository: $DRAWBRIDGE_VECTORS, or ../shared/vectors next to the
// repository root. Missing vectors skip loudly, and fail under CI=true.

func vectorsRoot() string {
	if d := os.Getenv("DRAWBRIDGE_VECTORS"); d != "" {
		return d
	}
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "..", "shared", "vectors")
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// vectorDir returns the attestation vector directory sub, or skips (fails
// under CI=true) when it is missing.
func vectorDir(tb testing.TB, sub string) string {
	tb.Helper()
	dir := filepath.Join(vectorsRoot(), "attestation", sub)
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("attestation vectors missing at %s (set DRAWBRIDGE_VECTORS)", dir)
		}
		tb.Skipf("SKIPPING: attestation vectors missing at %s (set DRAWBRIDGE_VECTORS; under CI=true this fails)", dir)
	}
	return dir
}

// vectorDirOptional is vectorDir for seeding fuzz corpora: no skip.
func vectorDirOptional(sub string) string {
	dir := filepath.Join(vectorsRoot(), "attestation", sub)
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return ""
	}
	return dir
}

type androidVector struct {
	Name           string
	ChainPEM       []string       `json:"chain_pem"`
	ChallengeB64   string         `json:"challenge_b64"`
	VerifiedAt     time.Time      `json:"verified_at_time"`
	Expected       string         `json:"expected"`
	KeyDescription map[string]any `json:"key_description_parsed"`
	ExpectedApp    *struct {
		Package   string `json:"package_name"`
		DigestB64 string `json:"signature_digest_sha256_b64"`
		DigestHex string `json:"signature_digest_sha256_hex"`
	} `json:"expected_app"`
	ExpectedSPKIB64 string `json:"expected_public_key_spki_b64"`
	Facts           struct {
		Validity [][2]time.Time `json:"validity"`
	} `json:"facts_checked_here"`
}

func (v *androidVector) chain(tb testing.TB) [][]byte {
	tb.Helper()
	var out [][]byte
	for i, p := range v.ChainPEM {
		block, _ := pem.Decode([]byte(p))
		if block == nil {
			tb.Fatalf("%s: chain_pem[%d] is not PEM", v.Name, i)
		}
		out = append(out, block.Bytes)
	}
	return out
}

func (v *androidVector) challenge(tb testing.TB) []byte {
	tb.Helper()
	b, err := base64.StdEncoding.DecodeString(v.ChallengeB64)
	if err != nil {
		tb.Fatalf("%s: challenge_b64: %v", v.Name, err)
	}
	return b
}

// app returns the vector's expected app as a policy App (version 1 and
// up), or ok false when the vector records none.
func (v *androidVector) app(tb testing.TB) (App, bool) {
	tb.Helper()
	if v.ExpectedApp == nil {
		return App{}, false
	}
	var d []byte
	var err error
	if v.ExpectedApp.DigestB64 != "" {
		d, err = base64.StdEncoding.DecodeString(v.ExpectedApp.DigestB64)
	} else {
		d, err = hex.DecodeString(v.ExpectedApp.DigestHex)
	}
	if err != nil || len(d) != sha256.Size {
		tb.Fatalf("%s: expected_app digest: %v", v.Name, err)
	}
	return App{Package: v.ExpectedApp.Package, SigningCertDigests: [][]byte{d}, MinVersionCode: 1}, true
}

// expiredAt reports whether any certificate of the vector has expired at t.
func (v *androidVector) expiredAt(t time.Time) bool {
	// The top certificate is a trust anchor: its validity is not checked
	// (see verifyChain).
	for _, w := range v.Facts.Validity[:len(v.Facts.Validity)-1] {
		if t.After(w[1]) {
			return true
		}
	}
	return false
}

func loadAndroidVectors(tb testing.TB) map[string]*androidVector {
	tb.Helper()
	dir := vectorDir(tb, "android-key")
	names, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil || len(names) == 0 {
		tb.Fatalf("no vectors in %s", dir)
	}
	sort.Strings(names)
	out := map[string]*androidVector{}
	for _, name := range names {
		b, err := os.ReadFile(name)
		if err != nil {
			tb.Fatal(err)
		}
		v := &androidVector{Name: strings.TrimSuffix(filepath.Base(name), ".json")}
		if err := json.Unmarshal(b, v); err != nil {
			tb.Fatalf("%s: %v", name, err)
		}
		out[v.Name] = v
	}
	return out
}
