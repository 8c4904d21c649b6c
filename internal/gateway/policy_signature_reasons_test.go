package gateway_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/drawbridge-gw/drawbridge/internal/httpsig"
)

// sigKeys are an HMAC secret and an Ed25519 key, and the keys section
// that names them hmac-1 and ed-1.
type sigKeys struct {
	hmac, ed httpsig.SigningKey
	yaml     string
}

func newSigKeys(t *testing.T) sigKeys {
	t.Helper()
	secret := make([]byte, 32)
	rand.Read(secret)
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	spki, _ := x509.MarshalPKIXPublicKey(priv.Public())
	pub := writeFile(t, "ed.pub.pem", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: spki}))
	return sigKeys{
		hmac: httpsig.SigningKey{Algorithm: httpsig.HMACSHA256, Secret: secret},
		ed:   httpsig.SigningKey{Algorithm: httpsig.Ed25519, Private: priv},
		yaml: fmt.Sprintf("\n          keys:\n            hmac-1: {secret: %q}\n            ed-1: {file: %q}", base64.StdEncoding.EncodeToString(secret), pub),
	}
}

// sigReasonsYAML has one route per policy variant.
func sigReasonsYAML(k sigKeys) string {
	route := func(name, extra string) string {
		return fmt.Sprintf(`
  - name: %s
    match: {path_prefix: /%s/}
    upstream: app
    policies:
      - signature:%s
          max_body_bytes: 64%s`, name, name, k.yaml, extra)
	}
	return `
listen: ${LISTEN}
upstreams:
  app:
    url: ${UPSTREAM}
routes:` + route("s", "") +
		route("tagged", "\n          tag: drawbridge") +
		route("labelled", "\n          label: mine") +
		route("edonly", "\n          algorithms: [ed25519]") +
		route("custom", "\n          required: ['@method', '@path', x-custom]") + "\n"
}

// TestSignatureReasons: every refusal of the signature layer, through a
// gateway, with its reason and status; and what passes reaches the
// upstream with its body unchanged.
func TestSignatureReasons(t *testing.T) {
	k := newSigKeys(t)
	e := startEnv(t, sigReasonsYAML(k))
	signer := func(key httpsig.SigningKey, id string) *httpsig.Signer {
		return &httpsig.Signer{Key: key, KeyID: id, Nonce: true}
	}
	hm, ed := signer(k.hmac, "hmac-1"), signer(k.ed, "ed-1")
	get := sigRequest{method: "GET", target: "/s/orders?page=2"}
	post := sigRequest{method: "POST", target: "/s/orders", header: map[string]string{"Content-Type": "application/json"}, body: `{"item":"book"}`}
	now := time.Now()

	// The good ones.
	for _, r := range []sigRequest{get, post} {
		for _, s := range []*httpsig.Signer{hm, ed} {
			wantOK(t, send(t, e, r, sign(t, e, s, r)))
			if got := e.up.last(t); got.Body != r.body || got.Header.Get("Signature") == "" {
				t.Errorf("upstream got body %q, Signature %q", got.Body, got.Header.Get("Signature"))
			}
		}
	}

	replayed := sign(t, e, hm, get)
	wantOK(t, send(t, e, get, replayed))
	withParams := func(s *httpsig.Signer, r sigRequest, p httpsig.Params) map[string]string {
		t.Helper()
		req := &httpsig.Request{Method: r.method, Target: r.target, Scheme: "http", Authority: e.addr,
			Fields: []httpsig.Field{{Name: "Host", Value: e.addr}}}
		signed, err := s.SignParams(httpsig.Message{Request: req}, p)
		if err != nil {
			t.Fatal(err)
		}
		return map[string]string{"Signature-Input": signed.Input, "Signature": signed.Signature}
	}
	base := func(p httpsig.Params) httpsig.Params {
		if p.KeyID == "" {
			p.KeyID = "hmac-1"
		}
		p.Nonce = rand.Text()
		return p
	}
	in := func(s string) map[string]string {
		return map[string]string{"Signature-Input": s, "Signature": "sig1=:AAAA:"}
	}
	custom := sigRequest{method: "GET", target: "/custom/x", header: map[string]string{"X-Custom": "1"}}
	customSig := sign(t, e, &httpsig.Signer{Key: k.hmac, KeyID: "hmac-1", Nonce: true, Components: []string{"@method", "@path", "x-custom"}}, custom)
	bigBody := sigRequest{method: "POST", target: "/s/big", body: strings.Repeat("x", 100)}
	md5Body := post
	md5Body.header = map[string]string{"Content-Type": "application/json", "Content-Digest": "md5=:HTTPbis/md5/digest/is/24:"}
	shortDigest := post
	shortDigest.header = map[string]string{"Content-Type": "application/json", "Content-Digest": "sha-256=:AAAA:"}
	otherBody := post
	otherBody.body = `{"item":"car!"}`

	for _, tc := range []struct {
		name   string
		req    sigRequest
		fields map[string]string
		status int
		reason string
	}{
		{"no signature", get, nil, 401, "signature.missing"},
		{"nine signatures", get, in("s1=(),s2=(),s3=(),s4=(),s5=(),s6=(),s7=(),s8=(),s9=()"), 401, "signature.too_large"},
		{"Signature-Input not a dictionary of lists", get, in("sig1=notalist"), 401, "signature.malformed_input"},
		{"Signature not bytes", get, map[string]string{"Signature-Input": sign(t, e, hm, get)["Signature-Input"], "Signature": `sig1="text"`}, 401, "signature.malformed_signature"},
		{"the route's label absent", sigRequest{method: "GET", target: "/labelled/x"}, nil, 401, "signature.label_not_found"},
		{"covers nothing", get, sign(t, e, &httpsig.Signer{Key: k.hmac, KeyID: "hmac-1", Nonce: true, Components: []string{}}, get), 401, "signature.covers_nothing"},
		{"does not cover the path", get, sign(t, e, &httpsig.Signer{Key: k.hmac, KeyID: "hmac-1", Nonce: true, Components: []string{"@method", "@authority"}}, get), 401, "signature.missing_component"},
		{"does not cover the body", post, sign(t, e, &httpsig.Signer{Key: k.hmac, KeyID: "hmac-1", Nonce: true, Components: []string{"@method", "@authority", "@path"}}, post), 401, "signature.missing_component"},
		{"another tag", sigRequest{method: "GET", target: "/tagged/x"}, nil, 401, "signature.tag_mismatch"},
		{"no created", get, withParams(hm, get, base(httpsig.Params{})), 401, "signature.missing_created"},
		{"created in an hour", get, withParams(hm, get, base(httpsig.Params{Created: now.Add(time.Hour)})), 401, "signature.created_in_future"},
		{"expired a minute ago", get, withParams(hm, get, base(httpsig.Params{Created: now.Add(-2 * time.Minute), Expires: now.Add(-time.Minute)})), 401, "signature.expired"},
		{"created ten minutes ago", get, withParams(hm, get, base(httpsig.Params{Created: now.Add(-10 * time.Minute)})), 401, "signature.too_old"},
		{"no nonce", get, sign(t, e, &httpsig.Signer{Key: k.hmac, KeyID: "hmac-1"}, get), 401, "signature.missing_nonce"},
		{"unknown keyid", get, sign(t, e, signer(k.hmac, "nope"), get), 401, "signature.unknown_key"},
		{"HMAC where only Ed25519 is allowed", sigRequest{method: "GET", target: "/edonly/x"}, nil, 401, "signature.alg_not_allowed"},
		{"alg other than the key's", get, in(`sig1=("@method" "@authority" "@path");created=` + fmt.Sprint(now.Unix()) + `;keyid="hmac-1";alg="ed25519";nonce="n1"`), 401, "signature.alg_mismatch"},
		{"covered header removed", sigRequest{method: "GET", target: "/custom/x"}, customSig, 401, "signature.component_unavailable"},
		{"method changed", sigRequest{method: "DELETE", target: get.target}, sign(t, e, hm, get), 401, "signature.invalid"},
		{"query changed", sigRequest{method: "GET", target: "/s/orders?page=3"}, sign(t, e, hm, get), 401, "signature.invalid"},
		{"body over the cap", bigBody, sign(t, e, hm, bigBody), 413, "signature.body_too_large"},
		{"digest too short", shortDigest, sign(t, e, hm, shortDigest), 401, "signature.malformed_digest"},
		{"only an md5 digest", md5Body, sign(t, e, hm, md5Body), 401, "signature.digest_missing"},
		{"body changed", otherBody, sign(t, e, hm, post), 401, "signature.digest_mismatch"},
		{"replayed", get, replayed, 401, "signature.replayed_nonce"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fields := tc.fields
			switch tc.reason {
			case "signature.label_not_found", "signature.tag_mismatch", "signature.alg_not_allowed":
				fields = sign(t, e, hm, tc.req)
			}
			before := e.up.hits.Load()
			resp := send(t, e, tc.req, fields)
			if tc.status == 200 {
				wantOK(t, resp)
				return
			}
			if tc.reason == "signature.missing" && resp.Header.Get("Accept-Signature") != `sig1=("@method" "@authority" "@path");created;nonce` {
				t.Errorf("Accept-Signature = %q", resp.Header.Get("Accept-Signature"))
			}
			wantRefused(t, e, resp, before, tc.status, tc.reason)
		})
	}
	if e.up.hits.Load() == 0 {
		t.Fatal("nothing reached the upstream")
	}
}

// TestSignatureStoreDown: with the replay guard's store down, signed
// requests are refused (503), not let through.
func TestSignatureStoreDown(t *testing.T) {
	k := newSigKeys(t)
	e := startEnv(t, sigReasonsYAML(k), withFailingHot(t))
	r := sigRequest{method: "GET", target: "/s/x"}
	before := e.up.hits.Load()
	wantRefused(t, e, send(t, e, r, sign(t, e, &httpsig.Signer{Key: k.ed, KeyID: "ed-1", Nonce: true}, r)), before, 503, "signature.unavailable")
}
