package cli_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/drawbridge-gw/drawbridge/internal/attest"
	"github.com/drawbridge-gw/drawbridge/internal/attest/androidkey"
	"github.com/drawbridge-gw/drawbridge/internal/attest/appattest"
	"github.com/drawbridge-gw/drawbridge/internal/cli"
)

// The conformance vectors are read in place: $DRAWBRIDGE_VECTORS, or
// ../shared/vectors next to the repository root. Missing vectors skip
// loudly, and fail under CI=true.

func attestationVectors(t *testing.T, sub string) string {
	t.Helper()
	root := os.Getenv("DRAWBRIDGE_VECTORS")
	if root == "" {
		dir, _ := os.Getwd()
		for dir != filepath.Dir(dir) {
			if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
				break
			}
			dir = filepath.Dir(dir)
		}
		root = filepath.Join(dir, "..", "shared", "vectors")
	}
	dir := filepath.Join(root, "attestation", sub)
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		if os.Getenv("CI") == "true" {
			t.Fatalf("attestation vectors missing at %s (set DRAWBRIDGE_VECTORS)", dir)
		}
		t.Skipf("SKIPPING: attestation vectors missing at %s (set DRAWBRIDGE_VECTORS; under CI=true this fails)", dir)
	}
	return dir
}

// today is the date the vectors README calls today.
const today = "2026-11-27T12:00:00Z"

// verdict runs 'attestation verify' and decodes the verdict it prints.
func verdict(t *testing.T, args ...string) (int, attest.Result) {
	t.Helper()
	code, out, errOut := run(t, append([]string{"attestation", "verify"}, args...)...)
	var r attest.Result
	if code != cli.ExitUsage {
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatalf("verify %v: exit %d, stdout not a verdict: %v\n%s%s", args, code, err, out, errOut)
		}
		if errOut != "" {
			t.Errorf("verify %v: stderr %q", args, errOut)
		}
		if (code == cli.ExitOK) != r.Valid {
			t.Errorf("verify %v: exit %d for valid=%v", args, code, r.Valid)
		}
	}
	return code, r
}

// vectorFiles returns the vector files matching pattern, and each one's
// fields.
func vectorFiles(t *testing.T, sub, pattern string) map[string]map[string]any {
	t.Helper()
	names, _ := filepath.Glob(filepath.Join(attestationVectors(t, sub), pattern))
	if len(names) == 0 {
		t.Fatalf("no %s/%s vectors", sub, pattern)
	}
	out := map[string]map[string]any{}
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s: %v", n, err)
		}
		out[n] = m
	}
	return out
}

// writeInput writes v as JSON into the test's directory.
func writeInput(t *testing.T, name string, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestAttestVerifyAppleVectors(t *testing.T) {
	for file, v := range vectorFiles(t, "appattest", "*-attestation.json") {
		name := filepath.Base(file)
		if code, r := verdict(t, "--platform", "apple", "--input", file, "--at", v["verified_at_time"].(string)); code != cli.ExitOK {
			t.Errorf("%s at its time: exit %d %v", name, code, r.Reasons)
		} else if r.Facts.Environment != v["environment"] || r.Facts.AppID != v["app_id"] {
			t.Errorf("%s: facts %+v", name, r.Facts)
		}
		code, r := verdict(t, "--platform", "apple", "--input", file, "--at", today)
		if want := []string{appattest.ReasonCertExpired, appattest.ReasonReceiptInvalid}; code != cli.ExitRefused || !cmp.Equal(want, r.Reasons) {
			t.Errorf("%s today: exit %d reasons %v, want %v", name, code, r.Reasons, want)
		}
		// The environment the input names is the one expected.
		other := map[string]string{"production": "development", "development": "production"}[v["environment"].(string)]
		v["environment"] = other
		in := writeInput(t, name, v)
		code, r = verdict(t, "--platform", "apple", "--input", in, "--at", v["verified_at_time"].(string))
		if code != cli.ExitRefused || r.Reason != appattest.ReasonEnvironmentNotAllowed && r.Reason != appattest.ReasonBadAAGUID {
			t.Errorf("%s expecting %s: exit %d %v", name, other, code, r.Reasons)
		}
		if other == "production" {
			if code, r := verdict(t, "--platform", "apple", "--input", in, "--at", v["verified_at_time"].(string), "--allow-development"); code != cli.ExitOK {
				t.Errorf("%s with --allow-development: exit %d %v", name, code, r.Reasons)
			}
		}
	}
}

func TestAttestVerifyAssertionVectors(t *testing.T) {
	for file, v := range vectorFiles(t, "appattest", "*-assertion.json") {
		name := filepath.Base(file)
		code, r := verdict(t, "--platform", "apple-assertion", "--input", file)
		if code != cli.ExitOK || r.Facts.Counter != uint64(v["expected_counter"].(float64)) {
			t.Errorf("%s: exit %d %v counter %d", name, code, r.Reasons, r.Facts.Counter)
		}
		// A replay: the stored counter has already reached this one.
		v["previous_counter"] = v["expected_counter"]
		code, r = verdict(t, "--platform", "apple-assertion", "--input", writeInput(t, name, v))
		if want := []string{appattest.ReasonCounterNotIncreased}; code != cli.ExitRefused || !cmp.Equal(want, r.Reasons) {
			t.Errorf("%s replayed: exit %d %v", name, code, r.Reasons)
		}
	}
}

func TestAttestVerifyAndroidVectors(t *testing.T) {
	const (
		expired    = androidkey.ReasonCertExpired
		badSig     = androidkey.ReasonBadSignatureChain
		untrusted  = androidkey.ReasonUntrustedRoot
		software   = androidkey.ReasonSoftwareSecurityLevel
		unlocked   = androidkey.ReasonUnlockedBootloader
		unverified = androidkey.ReasonUnverifiedBoot
		wrongPkg   = androidkey.ReasonPackageNotAllowed
	)
	// The strictest policy, at the vector's time and today. google-aka
	// vectors name no expected app, so no package is accepted.
	want := map[string][2][]string{
		"google-aka-ec-strongbox.json":         {{untrusted, unlocked, unverified, wrongPkg}, {untrusted, unlocked, unverified, wrongPkg}},
		"google-aka-rsa-strongbox.json":        {{untrusted, unlocked, unverified, wrongPkg}, {untrusted, unlocked, unverified, wrongPkg}},
		"google-aka-ec-tee.json":               {{unlocked, unverified, wrongPkg}, {unlocked, unverified, wrongPkg}},
		"google-aka-rsa-tee.json":              {{unlocked, unverified, wrongPkg}, {unlocked, unverified, wrongPkg}},
		"warden-bq-aquaris-nougat-hybrid.json": {{untrusted, software, unlocked, unverified}, {expired, untrusted, software, unlocked, unverified}},
		"warden-emulator-software-ec.json":     {{expired, untrusted, software, unlocked, unverified}, {expired, untrusted, software, unlocked, unverified}},
		"warden-emulator-software-rsa.json":    {{badSig, expired, untrusted, software, unlocked, unverified}, {badSig, expired, untrusted, software, unlocked, unverified}},
		"warden-nokia-x10-keymaster4-tee.json": {nil, nil},
		"warden-pixel6-keymint200-rkp.json":    {nil, {expired}},
	}
	files := vectorFiles(t, "android-key", "*.json")
	for file, v := range files {
		name := filepath.Base(file)
		w, ok := want[name]
		if !ok {
			t.Errorf("%s: no recorded verdict", name)
			continue
		}
		for i, at := range []string{v["verified_at_time"].(string), today} {
			code, r := verdict(t, "--platform", "android", "--input", file, "--at", at)
			if diff := cmp.Diff(w[i], r.Reasons); diff != "" || (code == cli.ExitOK) != (w[i] == nil) {
				t.Errorf("%s at %s: exit %d, reasons (-want +got):\n%s", name, at, code, diff)
			}
		}
	}
	if len(files) != len(want) {
		t.Errorf("%d vectors, %d recorded verdicts", len(files), len(want))
	}

	// Relaxing flags: the TEE chains are then refused only for the app.
	file := filepath.Join(attestationVectors(t, "android-key"), "google-aka-ec-tee.json")
	code, r := verdict(t, "--platform", "android", "--input", file, "--at", "2018-07-12T07:43:45Z", "--allow-unlocked", "--allow-unverified-boot")
	if code != cli.ExitRefused || !cmp.Equal([]string{wrongPkg}, r.Reasons) {
		t.Errorf("relaxed: exit %d %v", code, r.Reasons)
	}
	// A patch level the device does not have.
	file = filepath.Join(attestationVectors(t, "android-key"), "warden-nokia-x10-keymaster4-tee.json")
	code, r = verdict(t, "--platform", "android", "--input", file, "--at", "2023-04-14T13:14:42Z", "--min-patch-level", "202304")
	if code != cli.ExitRefused || r.Reason != androidkey.ReasonPatchLevelTooOld {
		t.Errorf("patch level: exit %d %v", code, r.Reasons)
	}
}

func TestAttestVerifyUsage(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.json")
	os.WriteFile(garbage, []byte("{not json"), 0o600)
	play := filepath.Join(dir, "play.json")
	os.WriteFile(play, []byte(`{"integrity_token":"x","decryption_kay":"typo"}`), 0o600)
	for name, args := range map[string][]string{
		"no platform":           {"--input", garbage},
		"unknown platform":      {"--platform", "windows", "--input", garbage},
		"no input":              {"--platform", "android"},
		"missing file":          {"--platform", "android", "--input", filepath.Join(dir, "none.json")},
		"not JSON":              {"--platform", "android", "--input", garbage},
		"bad --at":              {"--platform", "android", "--input", garbage, "--at", "yesterday"},
		"flag of another":       {"--platform", "play", "--input", play, "--allow-software"},
		"dev flag on android":   {"--platform", "android", "--input", garbage, "--allow-development"},
		"unknown member (play)": {"--platform", "play", "--input", play},
		"argument":              {"--platform", "play", "--input", play, "extra"},
		"unknown flag":          {"--platform", "play", "--input", play, "--allow-everything"},
	} {
		code, out, errOut := run(t, append([]string{"attestation", "verify"}, args...)...)
		if code != cli.ExitUsage || out != "" || !strings.Contains(errOut, "drawbridge:") {
			t.Errorf("%s: exit %d stdout %q stderr %q", name, code, out, errOut)
		}
	}
	// Standard input.
	file := filepath.Join(attestationVectors(t, "android-key"), "warden-nokia-x10-keymaster4-tee.json")
	b, _ := os.ReadFile(file)
	code, out, _ := runIn(t, string(b), "attestation", "verify", "--platform", "android", "--input", "-", "--at", "2023-04-14T13:14:42Z")
	if code != cli.ExitOK || !strings.Contains(out, `"valid": true`) {
		t.Errorf("stdin: exit %d %s", code, out)
	}
	// No --at: now.
	if code, r := verdict(t, "--platform", "android", "--input", filepath.Join(filepath.Dir(file), "warden-pixel6-keymint200-rkp.json")); code != cli.ExitRefused || r.Reason != androidkey.ReasonCertExpired {
		t.Errorf("now: exit %d %v", code, r.Reasons)
	}
	if code, _, _ := run(t, "attestation"); code != cli.ExitOK {
		t.Errorf("attestation: exit %d", code)
	}
	if code, _, _ := run(t, "attestation", "verfiy"); code != cli.ExitUsage {
		t.Errorf("attestation verfiy: exit %d", code)
	}
}
