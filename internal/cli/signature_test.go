package cli_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/drawbridge-gw/drawbridge/internal/cli"
)

// rfc9421Dir is the RFC 9421 vectors directory: under $DRAWBRIDGE_VECTORS,
// or ../shared/vectors beside the checkout, read in place. Under CI a
// missing directory fails the test; elsewhere the test skips, loudly.
func rfc9421Dir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("DRAWBRIDGE_VECTORS")
	if dir == "" {
		dir = filepath.Join("..", "..", "..", "shared", "vectors")
	}
	dir = filepath.Join(dir, "standards", "rfc9421")
	if _, err := os.Stat(dir); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("RFC 9421 vectors missing at %s (set DRAWBRIDGE_VECTORS)", dir)
		}
		t.Skipf("SKIP: RFC 9421 vectors missing at %s (set DRAWBRIDGE_VECTORS); signature commands NOT checked", dir)
	}
	return dir
}

type sigVector struct {
	Label               string `json:"label"`
	MessageFile         string `json:"message_file"`
	SignatureInputField string `json:"signature_input_field"`
	Assembled           string `json:"signed_http_message_assembled"`
	SignedHTTPMessage   string `json:"signed_http_message"`
}

func loadSigVector(t *testing.T, dir, name string) sigVector {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	var v sigVector
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// writeTemp writes a signed message, which the vectors hold only inside
// JSON, to a temporary file.
func writeTemp(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// 'signature base' prints each RFC 9421 B.2 signature base exactly.
func TestSignatureBaseVectors(t *testing.T) {
	dir := rfc9421Dir(t)
	for _, n := range []string{"1", "2", "3", "4", "5", "6"} {
		t.Run("b_2_"+n, func(t *testing.T) {
			v := loadSigVector(t, dir, "b_2_"+n+".json")
			_, input, _ := strings.Cut(v.SignatureInputField, ": ")
			want, err := os.ReadFile(filepath.Join(dir, "b_2_"+n+".sigbase.txt"))
			if err != nil {
				t.Fatal(err)
			}
			code, stdout, stderr := run(t, "signature", "base", "--request", filepath.Join(dir, v.MessageFile), "--input", input, "--label", v.Label)
			if code != cli.ExitOK || stdout != string(want) || stderr != "" {
				t.Fatalf("exit %d\nstdout:\n%s\nwant:\n%s\nstderr: %s", code, stdout, want, stderr)
			}
		})
	}
	// LF line ends are read too, and req components come from the related
	// request.
	req, err := os.ReadFile(filepath.Join(dir, "test-request.http"))
	if err != nil {
		t.Fatal(err)
	}
	lf := writeTemp(t, "request-lf.http", strings.ReplaceAll(string(req), "\r\n", "\n"))
	code, stdout, stderr := run(t, "signature", "base", "--request", filepath.Join(dir, "test-response.http"), "--related-request", lf,
		"--input", `a=("@method"), sig=("@status" "@method";req "@authority";req "content-type";req);created=1`, "--label", "sig")
	want := "\"@status\": 200\n\"@method\";req: POST\n\"@authority\";req: example.com\n\"content-type\";req: application/json\n" +
		`"@signature-params": ("@status" "@method";req "@authority";req "content-type";req);created=1`
	if code != cli.ExitOK || stdout != want {
		t.Fatalf("response base: exit %d\n%s\nwant\n%s\n%s", code, stdout, want, stderr)
	}
}

type cliVerdict struct {
	Valid   bool     `json:"valid"`
	Reason  string   `json:"reason"`
	KeyID   string   `json:"keyid"`
	Alg     string   `json:"alg"`
	Covered []string `json:"covered"`
	Created string   `json:"created"`
}

func TestSignatureVerify(t *testing.T) {
	dir := rfc9421Dir(t)
	key := func(name string) string { return filepath.Join(dir, "keys", name) }
	signed := func(name string) string {
		v := loadSigVector(t, dir, name+".json")
		msg := v.Assembled
		if msg == "" {
			msg = v.SignedHTTPMessage
		}
		return writeTemp(t, name+".http", msg)
	}
	const at = "2021-04-20T02:07:55Z"
	b21, b23, b24, b25, b26 := signed("b_2_1"), signed("b_2_3"), signed("b_2_4"), signed("b_2_5"), signed("b_2_6")
	b3 := signed("b_3_tls_terminating_proxy")
	printed, err := os.ReadFile(filepath.Join(dir, "test-response-as-printed.http"))
	if err != nil {
		t.Fatal(err)
	}
	b24Msg := loadSigVector(t, dir, "b_2_4.json").Assembled
	head, _, _ := strings.Cut(b24Msg, "\r\n\r\n")
	_, printedBody, _ := strings.Cut(string(printed), "\r\n\r\n")
	printedDigest := strings.Split(string(printed), "\r\n")[3]
	asPrinted := writeTemp(t, "as-printed.http", strings.Replace(head, strings.Split(head, "\r\n")[3], printedDigest, 1)+"\r\n\r\n"+printedBody)

	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantReason string
	}{
		{"B.2.1 covers nothing", []string{"--request", b21, "--key", key("test-key-rsa-pss.pub.pem"), "--at", at}, cli.ExitRefused, "signature.covers_nothing"},
		{"B.2.1 allowed empty", []string{"--request", b21, "--key", key("test-key-rsa-pss.pub.pem"), "--at", at, "--allow-empty"}, cli.ExitOK, ""},
		{"B.2.3 rsa-pss jwk", []string{"--request", b23, "--key", key("test-key-rsa-pss.jwk.json"), "--at", at, "--require", "@method,@authority,@path,content-digest"}, cli.ExitOK, ""},
		{"B.2.3 pss private pem", []string{"--request", b23, "--key", key("test-key-rsa-pss.priv.pem"), "--at", at, "--alg", "rsa-pss-sha512"}, cli.ExitOK, ""},
		{"B.2.3 now", []string{"--request", b23, "--key", key("test-key-rsa-pss.pub.pem")}, cli.ExitRefused, "signature.too_old"},
		{"B.2.3 before created", []string{"--request", b23, "--key", key("test-key-rsa-pss.pub.pem"), "--at", "2021-04-20T02:00:00Z"}, cli.ExitRefused, "signature.created_in_future"},
		{"B.2.3 as v1.5", []string{"--request", b23, "--key", key("test-key-rsa-pss.pub.pem"), "--at", at, "--alg", "rsa-v1_5-sha256"}, cli.ExitRefused, "signature.invalid"},
		{"B.2.4 response", []string{"--request", b24, "--key", key("test-key-ecc-p256.pub.pem"), "--at", at}, cli.ExitOK, ""},
		{"B.2.4 as printed", []string{"--request", asPrinted, "--key", key("test-key-ecc-p256.pub.pem"), "--at", at}, cli.ExitRefused, "signature.invalid"},
		{"B.2.5 hmac", []string{"--request", b25, "--key", key("test-shared-secret.b64"), "--at", at}, cli.ExitOK, ""},
		{"B.2.5 misses @method", []string{"--request", b25, "--key", key("test-shared-secret.b64"), "--at", at, "--require", "@method"}, cli.ExitRefused, "signature.missing_component"},
		{"B.2.6 ed25519", []string{"--request", b26, "--key", key("test-key-ed25519.jwk.json"), "--at", at, "--label", "sig-b26"}, cli.ExitOK, ""},
		{"B.2.6 wrong key", []string{"--request", b26, "--key", key("test-key-ed25519.pub.pem"), "--at", at, "--label", "nope"}, cli.ExitRefused, "signature.label_not_found"},
		{"B.2.6 with the hmac secret", []string{"--request", b26, "--key", key("test-shared-secret.b64"), "--at", at}, cli.ExitRefused, "signature.invalid"},
		{"B.3 proxy", []string{"--request", b3, "--key", key("test-key-ecc-p256.jwk.json"), "--at", at, "--label", "ttrp"}, cli.ExitOK, ""},
		{"unsigned", []string{"--request", filepath.Join(dir, "test-request.http"), "--key", key("test-shared-secret.b64")}, cli.ExitRefused, "signature.missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := run(t, append([]string{"signature", "verify"}, tt.args...)...)
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d\n%s%s", code, tt.wantCode, stdout, stderr)
			}
			var v cliVerdict
			if err := json.Unmarshal([]byte(stdout), &v); err != nil {
				t.Fatalf("stdout is not a JSON verdict: %v\n%s", err, stdout)
			}
			if v.Valid != (tt.wantCode == cli.ExitOK) || v.Reason != tt.wantReason || v.Covered == nil {
				t.Fatalf("verdict %+v, want reason %q", v, tt.wantReason)
			}
			if v.Valid && (v.KeyID == "" || v.Alg == "" || v.Created != "2021-04-20T02:07:53Z") {
				t.Errorf("verdict %+v lacks keyid, alg or created", v)
			}
		})
	}
}

func TestSignatureUsage(t *testing.T) {
	dir := rfc9421Dir(t)
	req := filepath.Join(dir, "test-request.http")
	secret := filepath.Join(dir, "keys", "test-shared-secret.b64")
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStderr string
	}{
		{"help", []string{"signature"}, cli.ExitOK, ""},
		{"unknown subcommand", []string{"signature", "verfy"}, cli.ExitUsage, `did you mean "verify"?`},
		{"base without input", []string{"signature", "base", "--request", req}, cli.ExitUsage, "--input SIGNATURE-INPUT is required"},
		{"base without request", []string{"signature", "base", "--input", "s=()"}, cli.ExitUsage, "--request FILE is required"},
		{"base bad input", []string{"signature", "base", "--request", req, "--input", "s=(\"@method\""}, cli.ExitUsage, "signature.malformed_input"},
		{"base absent component", []string{"signature", "base", "--request", req, "--input", `s=("x-absent")`}, cli.ExitRefused, "signature.component_unavailable"},
		{"base missing file", []string{"signature", "base", "--request", "testdata/no-such.http", "--input", "s=()"}, cli.ExitRefused, "no such file"},
		{"base with an argument", []string{"signature", "base", "x"}, cli.ExitUsage, "takes 0 argument(s)"},
		{"verify without key", []string{"signature", "verify", "--request", req}, cli.ExitUsage, "--key FILE is required"},
		{"verify bad at", []string{"signature", "verify", "--request", req, "--key", secret, "--at", "yesterday"}, cli.ExitUsage, "--at"},
		{"verify bad alg", []string{"signature", "verify", "--request", req, "--key", secret, "--alg", "hs256"}, cli.ExitUsage, "--alg"},
		{"verify alg unfit for key", []string{"signature", "verify", "--request", req, "--key", filepath.Join(dir, "keys", "test-key-ed25519.pub.pem"), "--alg", "hmac-sha256"}, cli.ExitUsage, "--key"},
		{"verify bad require", []string{"signature", "verify", "--request", req, "--key", secret, "--require", "@method,@Nope;x"}, cli.ExitUsage, "--require"},
		{"verify not a key", []string{"signature", "verify", "--request", req, "--key", req}, cli.ExitUsage, "--key"},
		{"verify not a message", []string{"signature", "verify", "--request", secret, "--key", secret}, cli.ExitUsage, "reading request"},
		{"verify bad origin", []string{"signature", "verify", "--request", req, "--key", secret, "--origin", "example.com"}, cli.ExitUsage, "--origin"},
		{"related to a request", []string{"signature", "verify", "--request", req, "--related-request", req, "--key", secret}, cli.ExitUsage, "applies to a response"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := run(t, tt.args...)
			if code != tt.wantCode || !strings.Contains(stderr, tt.wantStderr) {
				t.Fatalf("exit %d, want %d; stderr %q, want it to contain %q", code, tt.wantCode, stderr, tt.wantStderr)
			}
		})
	}
}
