package cli_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/drawbridge-gw/drawbridge/internal/attest/devkey"
	"github.com/drawbridge-gw/drawbridge/internal/cli"
)

// TestAttestDev runs the operator's whole development flow: dev-ca,
// dev-device, the device's evidence, and attestation verify.
func TestAttestDev(t *testing.T) {
	dir := t.TempDir()
	caDir, devDir := filepath.Join(dir, "devca"), filepath.Join(dir, "device")

	code, out, errOut := run(t, "attestation", "dev-ca", "--out", caDir)
	if code != cli.ExitOK || !strings.Contains(out, "never commit it") {
		t.Fatalf("dev-ca: exit %d %s %s", code, out, errOut)
	}
	st, err := os.Stat(filepath.Join(caDir, "ca.key"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("ca.key mode %v, %v", st.Mode(), err)
	}
	if code, _, errOut := run(t, "attestation", "dev-ca", "--out", caDir); code != cli.ExitRefused || !strings.Contains(errOut, "not overwriting") {
		t.Errorf("dev-ca over an existing CA: exit %d %s", code, errOut)
	}

	code, out, errOut = run(t, "attestation", "dev-device", "--ca", caDir, "--app", "shop-ios", "--out", devDir, "--days", "7")
	if code != cli.ExitOK || !strings.Contains(out, "shop-ios") {
		t.Fatalf("dev-device: exit %d %s %s", code, out, errOut)
	}
	if st, err := os.Stat(filepath.Join(devDir, "device.key")); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("device.key: %v", err)
	}
	device, err := devkey.ReadAttestor(devDir)
	if err != nil {
		t.Fatal(err)
	}

	clientData := `{"challenge":"q3T2Zk1xYz","jkt":"NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"}`
	hash := sha256.Sum256([]byte(clientData))
	ev, err := device.Attest(hash[:])
	if err != nil {
		t.Fatal(err)
	}
	// The input is the exchange request as the app sends it, plus the CA.
	var request map[string]any
	b, _ := json.Marshal(ev)
	json.Unmarshal(b, &request)
	request["app"] = "shop-ios"
	request["client_data"] = base64.RawURLEncoding.EncodeToString([]byte(clientData))
	request["signing_key"] = map[string]any{"kty": "EC", "crv": "P-256"}
	request["app_version"] = "2.3.1"
	request["ca_file"] = "devca/ca.pem"
	inputAt := func(name string, edit func(map[string]any)) string {
		in := map[string]any{}
		for k, v := range request {
			in[k] = v
		}
		if edit != nil {
			edit(in)
		}
		b, _ := json.Marshal(in)
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	caPEM, _ := os.ReadFile(filepath.Join(caDir, "ca.pem"))
	inDays := func(n int) string { return time.Now().AddDate(0, 0, n).Format(time.RFC3339) }

	for _, c := range []struct {
		name   string
		input  string
		args   []string
		reason string
	}{
		{name: "development allowed", input: inputAt("dev.json", nil), args: []string{"--allow-development"}},
		{name: "production (no flag)", input: inputAt("dev.json", nil), reason: devkey.ReasonEnvironmentNotAllowed},
		{name: "CA inline", input: inputAt("inline.json", func(m map[string]any) { delete(m, "ca_file"); m["ca_pem"] = string(caPEM) }), args: []string{"--allow-development"}},
		{name: "other app", input: inputAt("other.json", func(m map[string]any) { m["app"] = "bank-ios" }), args: []string{"--allow-development"}, reason: devkey.ReasonWrongApp},
		{name: "other client data", input: inputAt("cd.json", func(m map[string]any) { delete(m, "client_data"); m["client_data_utf8"] = "{}" }),
			args: []string{"--allow-development"}, reason: devkey.ReasonBadSignature},
		{name: "after the device expired", input: inputAt("dev.json", nil), args: []string{"--allow-development", "--at", inDays(8)}, reason: devkey.ReasonCertExpired},
		{name: "within its week", input: inputAt("dev.json", nil), args: []string{"--allow-development", "--at", inDays(6)}},
	} {
		code, r := verdict(t, append([]string{"--platform", "dev", "--input", c.input}, c.args...)...)
		if r.Reason != c.reason || (code == cli.ExitOK) != (c.reason == "") {
			t.Errorf("%s: exit %d reasons %v, want %q", c.name, code, r.Reasons, c.reason)
		}
		if r.Facts.Platform != "dev" || r.Facts.Environment != "development" || c.reason == "" && r.Facts.BoundKey == "" {
			t.Errorf("%s: facts %+v", c.name, r.Facts)
		}
	}

	// The CA key is refused where the CA certificate belongs.
	keyAndCert := inputAt("withkey.json", func(m map[string]any) {
		key, _ := os.ReadFile(filepath.Join(caDir, "ca.key"))
		delete(m, "ca_file")
		m["ca_pem"] = string(caPEM) + string(key)
	})
	for name, args := range map[string][]string{
		"CA key in ca_pem":   {"--platform", "dev", "--input", keyAndCert, "--allow-development"},
		"both ca_file/pem":   {"--platform", "dev", "--input", inputAt("both.json", func(m map[string]any) { m["ca_pem"] = string(caPEM) })},
		"no CA":              {"--platform", "dev", "--input", inputAt("noca.json", func(m map[string]any) { delete(m, "ca_file") })},
		"unknown member":     {"--platform", "dev", "--input", inputAt("unknown.json", func(m map[string]any) { m["allow_development"] = true })},
		"padded signature":   {"--platform", "dev", "--input", inputAt("pad.json", func(m map[string]any) { m["signature"] = m["signature"].(string) + "=" })},
		"bad app id":         {"--platform", "dev", "--input", inputAt("badapp.json", func(m map[string]any) { m["app"] = "shop ios" })},
		"dev-device bad app": nil,
	} {
		if args == nil {
			args = []string{"dev-device", "--ca", caDir, "--app", "a/b", "--out", filepath.Join(dir, "x")}
		} else {
			args = append([]string{"verify"}, args...)
		}
		code, out, errOut := run(t, append([]string{"attestation"}, args...)...)
		if code != cli.ExitUsage || out != "" {
			t.Errorf("%s: exit %d stdout %q stderr %q", name, code, out, errOut)
		}
	}
	for name, args := range map[string][]string{
		"dev-device without a CA":  {"dev-device", "--ca", filepath.Join(dir, "none"), "--app", "a", "--out", filepath.Join(dir, "y")},
		"dev-device for 91 days":   {"dev-device", "--ca", caDir, "--app", "a", "--out", filepath.Join(dir, "z"), "--days", "91"},
		"dev-ca without --out":     {"dev-ca"},
		"dev-device without --out": {"dev-device", "--ca", caDir, "--app", "a"},
	} {
		if code, _, _ := run(t, append([]string{"attestation"}, args...)...); code != cli.ExitUsage {
			t.Errorf("%s: exit %d", name, code)
		}
	}
}
