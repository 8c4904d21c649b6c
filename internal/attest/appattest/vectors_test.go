package appattest

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The real App Attest samples live in the shared vectors directory and are
// read in place: $DRAWBRIDGE_VECTORS, or ../shared/vectors beside the
// repository root. Under CI=true a missing directory fails the tests;
// elsewhere they skip, loudly.

// vectorsDir returns the attestation vectors directory, or "" when it is
// missing outside CI.
func vectorsDir(tb testing.TB) string {
	tb.Helper()
	dir := os.Getenv("DRAWBRIDGE_VECTORS")
	if dir == "" {
		root, err := repoRoot()
		if err != nil {
			tb.Fatalf("finding the repository root: %v", err)
		}
		dir = filepath.Join(root, "..", "shared", "vectors")
	}
	dir = filepath.Join(dir, "attestation")
	if _, err := os.Stat(filepath.Join(dir, "appattest")); err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("App Attest vectors missing at %s under CI (set DRAWBRIDGE_VECTORS): %v", dir, err)
		}
		return ""
	}
	return dir
}

// needVectors is vectorsDir for tests that cannot run without the vectors.
func needVectors(tb testing.TB) string {
	tb.Helper()
	dir := vectorsDir(tb)
	if dir == "" {
		tb.Skip("SKIP: App Attest vectors not found (set DRAWBRIDGE_VECTORS); the real-sample checks did NOT run")
	}
	return dir
}

// repoRoot is the nearest directory above the working directory (the
// package directory under go test) that holds go.mod.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", os.ErrNotExist
		}
		dir = parent
	}
}

type attestationVector struct {
	Name            string            `json:"-"`
	AttestationB64  string            `json:"attestation_b64"`
	ClientDataHash  string            `json:"client_data_hash_b64"`
	KeyID           string            `json:"key_id_b64"`
	TeamID          string            `json:"team_id"`
	BundleID        string            `json:"bundle_id"`
	AppID           string            `json:"app_id"`
	Environment     string            `json:"environment"`
	Expected        string            `json:"expected"`
	ExpectedCounter uint64            `json:"expected_counter"`
	PublicKeyPEM    string            `json:"expected_public_key_pem"`
	VerifiedAt      time.Time         `json:"verified_at_time"`
	LeafValidity    []time.Time       `json:"leaf_validity"`
	ExpectedRejects map[string]string `json:"expected_rejects"`
	ReceiptFields   map[string]string `json:"receipt_fields"`
	NonceB64        string            `json:"expected_nonce_b64"`
	RPIDHashB64     string            `json:"expected_rp_id_hash_b64"`
}

func (v attestationVector) raw(tb testing.TB) []byte       { return b64(tb, v.AttestationB64) }
func (v attestationVector) publicKey(tb testing.TB) []byte { return pemBytes(tb, v.PublicKeyPEM) }

// expect is the expectation the vector records: its app, challenge, key
// ID and exactly its environment.
func (v attestationVector) expect(tb testing.TB) Expect {
	return Expect{
		TeamID:         v.TeamID,
		BundleID:       v.BundleID,
		Environments:   []string{v.Environment},
		ClientDataHash: b64(tb, v.ClientDataHash),
		KeyID:          b64(tb, v.KeyID),
	}
}

type assertionVector struct {
	Name                string `json:"-"`
	AssertionB64        string `json:"assertion_b64"`
	ClientDataB64       string `json:"client_data_b64"`
	ClientDataUTF8      string `json:"client_data_utf8"`
	PublicKeyPEM        string `json:"public_key_pem"`
	KeyID               string `json:"key_id_b64"`
	AppID               string `json:"app_id"`
	PreviousCounter     uint64 `json:"previous_counter"`
	ExpectedCounter     uint64 `json:"expected_counter"`
	Expected            string `json:"expected"`
	RejectIfPreviousGE  uint64 `json:"expected_reject_if_previous_counter_ge"`
	PairedAttestation   string `json:"paired_attestation_file"`
	AssertionB64URLSrc  string `json:"assertion_b64url_as_in_source"`
	ClientDataB64URLSrc string `json:"client_data_b64url_as_in_source"`
}

func (v assertionVector) raw(tb testing.TB) []byte { return b64(tb, v.AssertionB64) }

func (v assertionVector) clientData(tb testing.TB) []byte {
	if v.ClientDataB64 != "" {
		return b64(tb, v.ClientDataB64)
	}
	return []byte(v.ClientDataUTF8)
}

func (v assertionVector) expect(tb testing.TB) AssertionExpect {
	team, bundle := splitAppID(v.AppID)
	return AssertionExpect{
		TeamID:          team,
		BundleID:        bundle,
		ClientData:      v.clientData(tb),
		PublicKey:       pemBytes(tb, v.PublicKeyPEM),
		PreviousCounter: v.PreviousCounter,
	}
}

type receiptsVector struct {
	Name     string `json:"-"`
	AppID    string `json:"app_id"`
	KeyID    string `json:"key_id_b64"`
	Receipts []struct {
		B64       string    `json:"receipt_b64"`
		Timestamp time.Time `json:"timestamp"`
		Expected  struct {
			ClientHash     string `json:"clientHashBase64"`
			CreationTime   string `json:"creationTime"`
			Environment    string `json:"environment"`
			ExpirationTime string `json:"expirationTime"`
			NotBefore      string `json:"notBefore"`
			RiskMetric     string `json:"riskMetric"`
			Token          string `json:"token"`
			Type           string `json:"type"`
		} `json:"expected_properties"`
	} `json:"receipts"`
}

// splitAppID splits "TEAMID.bundle.id" at its first dot.
func splitAppID(appID string) (team, bundle string) {
	team, bundle, _ = strings.Cut(appID, ".")
	return team, bundle
}

func loadVectors[T any](tb testing.TB, dir, pattern string, name func(*T, string)) []T {
	tb.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "appattest", pattern))
	if err != nil || len(files) == 0 {
		tb.Fatalf("no vectors match %s in %s (%v)", pattern, dir, err)
	}
	var out []T
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		var v T
		if err := json.Unmarshal(b, &v); err != nil {
			tb.Fatalf("%s: %v", f, err)
		}
		name(&v, strings.TrimSuffix(filepath.Base(f), ".json"))
		out = append(out, v)
	}
	return out
}

func attestationVectors(tb testing.TB, dir string) []attestationVector {
	return loadVectors(tb, dir, "*-attestation.json", func(v *attestationVector, n string) { v.Name = n })
}

func assertionVectors(tb testing.TB, dir string) []assertionVector {
	return loadVectors(tb, dir, "*-assertion.json", func(v *assertionVector, n string) { v.Name = n })
}

func receiptVectors(tb testing.TB, dir string) []receiptsVector {
	return loadVectors(tb, dir, "*-receipts.json", func(v *receiptsVector, n string) { v.Name = n })
}

func b64(tb testing.TB, s string) []byte {
	tb.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		tb.Fatalf("base64 %q: %v", s, err)
	}
	return b
}

func pemBytes(tb testing.TB, s string) []byte {
	tb.Helper()
	blk, _ := pem.Decode([]byte(s))
	if blk == nil {
		tb.Fatalf("no PEM block in %q", s)
	}
	return blk.Bytes
}

// today is the date the vectors were last re-checked; every sample's leaf
// has expired by then.
var today = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

func sha256Sum(parts ...[]byte) []byte {
	h := sha256.New()
	for _, p := range parts {
		h.Write(p)
	}
	return h.Sum(nil)
}
