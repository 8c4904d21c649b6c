package cli_test

import (
	"crypto/sha256"
	"encoding/base64"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/drawbridge-gw/drawbridge/internal/attest/playintegrity"
	"github.com/drawbridge-gw/drawbridge/internal/attest/playintegrity/playintegritytest"
	"github.com/drawbridge-gw/drawbridge/internal/cli"
)

// TestAttestVerifyPlay verifies tokens minted in the test, with keys made
// in the test, in the documented input format.
func TestAttestVerifyPlay(t *testing.T) {
	keys, err := playintegritytest.NewKeys()
	if err != nil {
		t.Fatal(err)
	}
	const pkg = "com.example.shop"
	minted := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	at := minted.Add(5 * time.Second).Format(time.RFC3339)
	clientData := `{"challenge":"q3T2Zk1xYz","jkt":"NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"}`
	hash := sha256.Sum256([]byte(clientData))
	cert := playintegritytest.Digest("release certificate")

	input := func(edit func(v playintegritytest.Verdict), fields map[string]any) string {
		v := playintegritytest.NewVerdict(pkg, hash[:], cert, 12, minted)
		if edit != nil {
			edit(v)
		}
		tok, err := keys.MintJSON(v)
		if err != nil {
			t.Fatal(err)
		}
		in := map[string]any{
			"app":                  "shop-android",
			"integrity_token":      tok,
			"client_data":          base64.RawURLEncoding.EncodeToString([]byte(clientData)),
			"signing_key":          map[string]any{"kty": "EC"},
			"decryption_key":       keys.DecryptionKeyBase64(),
			"verification_key":     keys.VerificationKeyBase64(),
			"package_name":         pkg,
			"signing_cert_digests": []string{strings.ToUpper(hexColons(cert))},
			"min_version_code":     10,
		}
		for k, x := range fields {
			if x == nil {
				delete(in, k)
			} else {
				in[k] = x
			}
		}
		return writeInput(t, "play.json", in)
	}
	basicOnly := func(v playintegritytest.Verdict) {
		v.Section("deviceIntegrity")["deviceRecognitionVerdict"] = []any{playintegrity.MeetsBasicIntegrity}
	}
	unlicensed := func(v playintegritytest.Verdict) { v.Section("accountDetails")["appLicensingVerdict"] = "UNLICENSED" }

	for _, c := range []struct {
		name   string
		input  string
		args   []string
		reason string // "": valid
	}{
		{name: "valid", input: input(nil, nil)},
		{name: "client data as text", input: input(nil, map[string]any{"client_data": nil, "client_data_utf8": clientData})},
		{name: "client data hash", input: input(nil, map[string]any{"client_data": nil, "client_data_hash_b64": base64.StdEncoding.EncodeToString(hash[:])})},
		{name: "digest in base64", input: input(nil, map[string]any{"signing_cert_digests": []string{base64.StdEncoding.EncodeToString(cert)}})},
		{name: "other package", input: input(nil, map[string]any{"package_name": "com.example.other"}), reason: playintegrity.ReasonPackageMismatch},
		{name: "other client data", input: input(nil, map[string]any{"client_data_utf8": "{}", "client_data": nil}), reason: playintegrity.ReasonNonceMismatch},
		{name: "newer minimum", input: input(nil, map[string]any{"min_version_code": 13}), reason: playintegrity.ReasonVersionTooOld},
		{name: "other verification key", input: input(nil, map[string]any{"verification_key": mustOtherKeys(t).VerificationKeyBase64()}), reason: playintegrity.ReasonBadSignature},
		{name: "other decryption key", input: input(nil, map[string]any{"decryption_key": mustOtherKeys(t).DecryptionKeyBase64()}), reason: playintegrity.ReasonDecryptFailed},
		{name: "token garbage", input: input(nil, map[string]any{"integrity_token": "a.b.c"}), reason: playintegrity.ReasonMalformedToken},
		{name: "stale", input: input(nil, nil), args: []string{"--at", minted.Add(3 * time.Minute).Format(time.RFC3339)}, reason: playintegrity.ReasonTimestampStale},
		{name: "--max-age", input: input(nil, nil), args: []string{"--at", minted.Add(3 * time.Minute).Format(time.RFC3339), "--max-age", "5m"}},
		{name: "max_age in the input", input: input(nil, map[string]any{"max_age": "1h"}), args: []string{"--at", minted.Add(time.Hour).Format(time.RFC3339)}},
		{name: "basic integrity", input: input(basicOnly, nil), reason: playintegrity.ReasonDeviceIntegrity},
		{name: "basic integrity allowed", input: input(basicOnly, nil), args: []string{"--allow-basic-integrity"}},
		{name: "strong asked", input: input(nil, map[string]any{"device_integrity": playintegrity.MeetsStrongIntegrity}), reason: playintegrity.ReasonDeviceIntegrity},
		{name: "unlicensed", input: input(unlicensed, map[string]any{"require_licensed": true}), reason: playintegrity.ReasonUnlicensed},
		{name: "unlicensed allowed", input: input(unlicensed, map[string]any{"require_licensed": true}), args: []string{"--allow-unlicensed"}},
		{name: "unrecognized", input: input(func(v playintegritytest.Verdict) {
			v.Section("appIntegrity")["appRecognitionVerdict"] = "UNRECOGNIZED_VERSION"
		}, nil),
			reason: playintegrity.ReasonAppNotRecognized},
		{name: "unrecognized allowed", input: input(func(v playintegritytest.Verdict) {
			v.Section("appIntegrity")["appRecognitionVerdict"] = "UNRECOGNIZED_VERSION"
		}, nil),
			args: []string{"--allow-unrecognized-version"}},
		{name: "test response", input: input(func(v playintegritytest.Verdict) { v["testingDetails"] = map[string]any{"isTestingResponse": true} }, nil),
			reason: playintegrity.ReasonTestingResponse},
		{name: "test response allowed", input: input(func(v playintegritytest.Verdict) { v["testingDetails"] = map[string]any{"isTestingResponse": true} }, nil),
			args: []string{"--allow-testing-response"}},
	} {
		args := append([]string{"--platform", "play", "--input", c.input, "--at", at}, c.args...)
		code, r := verdict(t, args...)
		if r.Reason != c.reason || (code == cli.ExitOK) != (c.reason == "") {
			t.Errorf("%s: exit %d reasons %v, want %q", c.name, code, r.Reasons, c.reason)
		}
		if c.reason == "" && (r.Facts.BoundKey != "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs" && !strings.Contains(c.name, "hash") || r.Facts.AppID != pkg) {
			t.Errorf("%s: facts %+v", c.name, r.Facts)
		}
	}

	// The decryption key never shows, whatever goes wrong.
	for name, fields := range map[string]map[string]any{
		"short decryption key": {"decryption_key": base64.StdEncoding.EncodeToString([]byte("0123456789abcdef"))},
		"no digests":           {"signing_cert_digests": nil},
		"bad digest":           {"signing_cert_digests": []string{"abc"}},
		"bad device level":     {"device_integrity": "MEETS_VIRTUAL_INTEGRITY"},
		"bad max_age":          {"max_age": "soon"},
		"no client data":       {"client_data": nil},
		"misspelt member":      {"min_version": 3},
	} {
		in := input(nil, fields)
		code, out, errOut := run(t, "attestation", "verify", "--platform", "play", "--input", in, "--at", at)
		if code != cli.ExitUsage || out != "" || strings.Contains(errOut, keys.DecryptionKeyBase64()) || strings.Contains(errOut, "0123456789abcdef") {
			t.Errorf("%s: exit %d stdout %q stderr %q", name, code, out, errOut)
		}
	}
	b, _ := os.ReadFile(input(nil, nil))
	if !strings.Contains(string(b), keys.DecryptionKeyBase64()) {
		t.Fatal("the input does not hold the key: the check above proves nothing")
	}
}

var otherKeys = sync.OnceValues(playintegritytest.NewKeys)

// mustOtherKeys is a second app's keys.
func mustOtherKeys(t *testing.T) *playintegritytest.Keys {
	k, err := otherKeys()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// hexColons writes a digest as keytool prints it: AB:CD:...
func hexColons(b []byte) string {
	const digits = "0123456789abcdef"
	var sb strings.Builder
	for i, x := range b {
		if i > 0 {
			sb.WriteByte(':')
		}
		sb.WriteByte(digits[x>>4])
		sb.WriteByte(digits[x&15])
	}
	return sb.String()
}
