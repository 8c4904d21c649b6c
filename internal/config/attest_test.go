package config

import (
	"encoding/base64"
	"strings"
	"testing"
)

// External attestation services are checked for what their tokens need.
func TestExternalAttestationProblems(t *testing.T) {
	secret := base64.StdEncoding.EncodeToString([]byte(strings.Repeat("s", 64)))
	yaml := `
upstreams: {a: {url: "http://127.0.0.1:1"}}
apps:
  shop: {apple: {team_id: T, bundle_id: b}}
attestation:
  external:
    fb-ok: {type: firebase_app_check, project_number: "123", apps: {"1:123:ios:a": shop}}
    fb-star: {type: firebase_app_check, project_number: "12x", apps: {"*": shop}, secret: x}
    ap-ok: {type: approov, secret: "` + secret + `", apps: {"*": shop}}
    ap-short: {type: approov, secret: "c2hvcnQ=", apps: {"x": shop, "*": shop}}
    ap-bad: {type: approov, secret: "not base64!", apps: {"*": nope}, project_number: "1"}
    other: {type: recaptcha, apps: {"*": shop}}
routes:
  - upstream: a
    policies:
      - attestation: {apps: [shop], external: [fb-ok, ap-ok, missing]}
`
	_, err := Parse("c.yaml", []byte(yaml), env(nil))
	if err == nil {
		t.Fatal("accepted")
	}
	msg := err.Error()
	for _, want := range []string{
		"attestation.external.fb-star.project_number", "attestation.external.fb-star.apps", "attestation.external.fb-star: secret",
		"attestation.external.ap-short.secret", "attestation.external.ap-short.apps",
		"attestation.external.ap-bad.secret", "attestation.external.ap-bad.apps.*: unknown app", "attestation.external.ap-bad: project_number",
		"attestation.external.other.type", "external[2]: unknown attestation.external entry",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("problems lack %q", want)
		}
	}
	for _, clean := range []string{"fb-ok", "ap-ok"} {
		if strings.Contains(msg, "attestation.external."+clean) {
			t.Errorf("a valid entry %s was refused:\n%s", clean, msg)
		}
	}
	if strings.Contains(msg, "not base64!") {
		t.Error("a problem quotes the secret")
	}
}
