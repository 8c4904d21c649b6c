package gateway_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// rfc9421 is an RFC 9421 Appendix B example (shared vectors).
type rfc9421 struct {
	Label     string `json:"label"`
	Assembled string `json:"signed_http_message_assembled"`
}

func loadRFC9421(t *testing.T, name string) rfc9421 {
	t.Helper()
	var v rfc9421
	b, err := os.ReadFile(filepath.Join(vectorsDir(t), "standards", "rfc9421", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// rfcKeys is the keys section naming the RFC's keys by their keyids.
func rfcKeys(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(vectorsDir(t), "standards", "rfc9421", "keys")
	secret, err := os.ReadFile(filepath.Join(dir, "test-shared-secret.b64"))
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf(`
          keys:
            test-shared-secret: {secret: %q}
            test-key-ed25519: {file: %q}
            test-key-rsa-pss: {file: %q, alg: rsa-pss-sha512}`,
		strings.TrimSpace(string(secret)), filepath.Join(dir, "test-key-ed25519.pub.pem"), filepath.Join(dir, "test-key-rsa-pss.pub.pem"))
}

// sigYAML is a gateway with one route, /foo, whose signature layer has
// the RFC's keys and the given extra settings.
func sigYAML(t *testing.T, extra string) string {
	return `
listen: ${LISTEN}
upstreams:
  app:
    url: ${UPSTREAM}
routes:
  - name: sig
    match: {path_prefix: /foo}
    upstream: app
    policies:
      - signature:` + rfcKeys(t) + extra + "\n"
}

// rfcCreated is created in every Appendix B example.
var rfcCreated = time.Unix(1618884473, 0)

// TestSignatureRFC9421: the Appendix B request examples keep their
// verdicts through the gateway, sent as the RFC prints them over a real
// connection, with the gateway's clock at their created time: B.2.2,
// B.2.3, B.2.5 (HMAC) and B.2.6 (Ed25519) verify on a route that asks for
// what they cover, and the upstream receives the body unchanged; B.2.1,
// which covers nothing, is refused whatever the route asks for; B.2.6,
// which does not cover the body, is refused by the default policy. Then
// every covered component of B.2.6 changed, the clock moved before and
// far after created, and a wrong key each refuse it with their reasons.
func TestSignatureRFC9421(t *testing.T) {
	clock := newClock(rfcCreated.Add(time.Second))
	for _, tc := range []struct {
		name, example, extra string
		status               int
		reason               string
	}{
		{"B.2.1 covers nothing", "b_2_1", "\n          required: []\n          nonce: off", 401, "signature.covers_nothing"},
		{"B.2.2 query param and tag", "b_2_2", "\n          required: ['@authority', content-digest, '@query-param;name=\"Pet\"']\n          tag: header-example\n          nonce: off", 200, ""},
		{"B.2.3 full coverage, default policy", "b_2_3", "\n          nonce: off", 200, ""},
		{"B.2.5 HMAC", "b_2_5", "\n          required: ['@authority', content-type]\n          nonce: off", 200, ""},
		{"B.2.6 Ed25519", "b_2_6", "\n          required: ['@method', '@path', '@authority']\n          nonce: off", 200, ""},
		{"B.2.6 under the default policy", "b_2_6", "\n          nonce: off", 401, "signature.missing_component"},
		{"B.2.5 without a nonce where one is required", "b_2_5", "\n          required: ['@authority']", 401, "signature.missing_nonce"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := loadRFC9421(t, tc.example)
			e := startEnv(t, sigYAML(t, tc.extra), withClock(clock))
			before := e.up.hits.Load()
			resp, _ := rawExchange(t, e.addr, []byte(v.Assembled))
			if tc.status == 200 {
				wantOK(t, resp)
				if got := e.up.last(t); got.Body != `{"hello": "world"}` || got.Method != "POST" {
					t.Errorf("the upstream received %s %q", got.Method, got.Body)
				}
				return
			}
			wantRefused(t, e, resp, before, tc.status, tc.reason)
		})
	}

	b26 := loadRFC9421(t, "b_2_6").Assembled
	e := startEnv(t, sigYAML(t, "\n          required: ['@method', '@path', '@authority']\n          nonce: off"), withClock(clock))
	for _, tc := range []struct {
		name, old, new string
		at             time.Time
		reason         string
	}{
		{"date", "Date: Tue, 20 Apr 2021 02:07:55 GMT", "Date: Tue, 20 Apr 2021 02:07:56 GMT", time.Time{}, "signature.invalid"},
		{"method", "POST /foo", "PUT /foo", time.Time{}, "signature.invalid"},
		{"path", "POST /foo?", "POST /foo/?", time.Time{}, "signature.invalid"},
		{"authority", "Host: example.com", "Host: example.org", time.Time{}, "signature.invalid"},
		{"content-type", "Content-Type: application/json", "Content-Type: text/plain", time.Time{}, "signature.invalid"},
		{"content-digest", "sha-512=:WZDPaVn", "sha-512=:XZDPaVn", time.Time{}, "signature.digest_mismatch"},
		{"body", `{"hello": "world"}`, `{"hello": "wörld"}`, time.Time{}, "signature.digest_mismatch"},
		{"created in the future", "", "", rfcCreated.Add(-time.Hour), "signature.created_in_future"},
		{"created too long ago", "", "", rfcCreated.Add(time.Hour), "signature.too_old"},
	} {
		t.Run("B.2.6 "+tc.name, func(t *testing.T) {
			msg := b26
			if tc.old != "" {
				if !strings.Contains(msg, tc.old) {
					t.Fatalf("the example has no %q", tc.old)
				}
				msg = strings.Replace(msg, tc.old, tc.new, 1)
			}
			if !tc.at.IsZero() {
				clock.Set(tc.at)
				defer clock.Set(rfcCreated.Add(time.Second))
			}
			before := e.up.hits.Load()
			resp, _ := rawExchange(t, e.addr, []byte(msg))
			wantRefused(t, e, resp, before, 401, tc.reason)
		})
	}
	// The untouched example still passes after all that.
	resp, _ := rawExchange(t, e.addr, []byte(b26))
	wantOK(t, resp)

	// A gateway that has another secret under the keyid refuses B.2.5.
	secret, err := os.ReadFile(filepath.Join(vectorsDir(t), "standards", "rfc9421", "keys", "test-shared-secret.b64"))
	if err != nil {
		t.Fatal(err)
	}
	other := "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldC0xMjM0NTY3OA=="
	wrong := strings.Replace(sigYAML(t, "\n          required: ['@authority']\n          nonce: off"), strings.TrimSpace(string(secret)), other, 1)
	e2 := startEnv(t, wrong, withClock(clock))
	before := e2.up.hits.Load()
	resp, _ = rawExchange(t, e2.addr, []byte(loadRFC9421(t, "b_2_5").Assembled))
	wantRefused(t, e2, resp, before, 401, "signature.invalid")
}
