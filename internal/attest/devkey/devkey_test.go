package devkey_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/drawbridge-gw/drawbridge/internal/attest"
	"github.com/drawbridge-gw/drawbridge/internal/attest/devkey"
)

func TestValidFacts(t *testing.T) {
	p := pki(t)
	ev := evidence(t)
	r := devkey.Verify(ev, synthExpect(), synthPolicy(t), synthNow)
	leaf, _ := x509.ParseCertificate(ev.Chain[0])
	sum := sha256.Sum256(leaf.RawSubjectPublicKeyInfo)
	want := attest.Result{Valid: true, Facts: attest.Facts{
		Platform:    "dev",
		AppID:       synthApp,
		Environment: "development",
		KeyID:       base64.StdEncoding.EncodeToString(sum[:]),
		PublicKey:   leaf.RawSubjectPublicKeyInfo,
		BoundKey:    synthJKT,
		NotAfter:    synthNow.Add(devkey.DefaultDeviceLifetime),
	}}
	if diff := cmp.Diff(want, r); diff != "" {
		t.Errorf("result (-want +got):\n%s", diff)
	}
	if !bytes.Equal(r.Facts.PublicKey, mustSPKI(t, &p.deviceKey.PublicKey)) {
		t.Error("public key is not the device key")
	}
	// Verify keeps no reference to the caller's bytes.
	r.Facts.PublicKey[0] ^= 0xff
	if !bytes.Equal(ev.Chain[0], pki(t).device.Chain[0]) {
		t.Error("chain altered")
	}
	// A bad signature binds no key.
	exp := synthExpect()
	exp.ClientDataHash = otherHash
	if r := devkey.Verify(ev, exp, synthPolicy(t), synthNow); r.Facts.BoundKey != "" || r.Facts.AppID != synthApp {
		t.Errorf("bad signature facts: %+v", r.Facts)
	}
}

func mustSPKI(tb testing.TB, pub any) []byte {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		tb.Fatal(err)
	}
	return der
}

func TestEvidenceJSON(t *testing.T) {
	ev := evidence(t)
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	var wire map[string]any
	if err := json.Unmarshal(b, &wire); err != nil {
		t.Fatal(err)
	}
	if wire["certificate_chain"].([]any)[0] != base64.StdEncoding.EncodeToString(ev.Chain[0]) ||
		wire["signature"] != base64.RawURLEncoding.EncodeToString(ev.Signature) {
		t.Errorf("wire form %s", b)
	}
	got, err := devkey.ParseEvidence(b)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(ev, got); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}

	chain := `["` + base64.StdEncoding.EncodeToString(ev.Chain[0]) + `"]`
	sig := `"` + base64.RawURLEncoding.EncodeToString(ev.Signature) + `"`
	for name, in := range map[string]string{
		"not an object":        `[]`,
		"duplicate member":     `{"certificate_chain":` + chain + `,"signature":` + sig + `,"signature":` + sig + `}`,
		"member in other case": `{"certificate_chain":` + chain + `,"Signature":` + sig + `}`,
		"unknown member":       `{"certificate_chain":` + chain + `,"signature":` + sig + `,"app":"shop-ios"}`,
		"trailing data":        `{"certificate_chain":` + chain + `,"signature":` + sig + `} {}`,
		"padded signature":     `{"certificate_chain":` + chain + `,"signature":"` + base64.URLEncoding.EncodeToString(ev.Signature[:64]) + `"}`,
		"standard signature":   `{"certificate_chain":` + chain + `,"signature":"+/+/"}`,
		"url-safe certificate": `{"certificate_chain":["` + base64.RawURLEncoding.EncodeToString(ev.Chain[0]) + `"],"signature":` + sig + `}`,
		"line break in base64": `{"certificate_chain":["` + base64.StdEncoding.EncodeToString(ev.Chain[0])[:8] + `\n` + base64.StdEncoding.EncodeToString(ev.Chain[0])[8:] + `"],"signature":` + sig + `}`,
		"five certificates":    `{"certificate_chain":[` + strings.Repeat(`"AAAA",`, 4) + `"AAAA"],"signature":` + sig + `}`,
		"chain not a list":     `{"certificate_chain":"AAAA","signature":` + sig + `}`,
		"too large":            `{"certificate_chain":["` + strings.Repeat("A", devkey.MaxEvidenceJSON) + `"],"signature":""}`,
	} {
		if _, err := devkey.ParseEvidence([]byte(in)); err == nil {
			t.Errorf("%s: accepted", name)
		} else if strings.Contains(err.Error(), "shop-ios") {
			t.Errorf("%s: error quotes the input: %v", name, err)
		}
	}
}

func TestAppOf(t *testing.T) {
	p := pki(t)
	for _, c := range []struct {
		uris []string
		app  string
		ok   bool
	}{
		{[]string{devkey.AppURI("shop-ios")}, "shop-ios", true},
		{[]string{"https://shop.example/", devkey.AppURI("a.b_c-D9")}, "a.b_c-D9", true},
		{nil, "", false},
		{[]string{devkey.AppURI("a"), devkey.AppURI("a")}, "", false},
		{[]string{"drawbridge-dev:device/x"}, "", false},
		{[]string{devkey.AppURI("")}, "", false},
		{[]string{devkey.AppURI("a%2Fb")}, "", false},
		{[]string{devkey.AppURI("a") + "#frag"}, "", false},
	} {
		der := deviceCert(t, p.ca, p.caKey, &p.otherKey.PublicKey, func(tmpl *x509.Certificate) { tmpl.URIs = mustURLs(c.uris...) })
		cert, _ := x509.ParseCertificate(der)
		if app, ok := devkey.AppOf(cert); app != c.app || ok != c.ok {
			t.Errorf("%v: got %q %v, want %q %v", c.uris, app, ok, c.app, c.ok)
		}
	}
}

func TestIssue(t *testing.T) {
	p := pki(t)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	cert, err := devkey.IssueDevice(p.ca, p.caKey, &key.PublicKey, "shop-android", synthNow, 7*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if app, ok := devkey.AppOf(cert); !ok || app != "shop-android" || cert.IsCA || cert.KeyUsage != x509.KeyUsageDigitalSignature ||
		!cert.NotAfter.Equal(synthNow.Add(7*24*time.Hour)) || !cert.NotBefore.Equal(synthNow.Add(-devkey.Backdate)) {
		t.Errorf("device certificate: app %q IsCA %v usage %v validity %v-%v", app, cert.IsCA, cert.KeyUsage, cert.NotBefore, cert.NotAfter)
	}
	if !p.ca.MaxPathLenZero || !p.ca.IsCA || p.ca.KeyUsage&x509.KeyUsageCertSign == 0 {
		t.Errorf("CA: %+v", p.ca)
	}
	// Never past the CA.
	shortCA, shortKey, err := devkey.NewCA(synthNow, 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if c, err := devkey.IssueDevice(shortCA, shortKey, &key.PublicKey, "a", synthNow, 0); err != nil || !c.NotAfter.Equal(shortCA.NotAfter) {
		t.Errorf("clamped to the CA: %v %v", err, c.NotAfter)
	}
	for name, issue := range map[string]func() error{
		"bad app": func() error {
			_, err := devkey.IssueDevice(p.ca, p.caKey, &key.PublicKey, "a b", synthNow, 0)
			return err
		},
		"P-384 key": func() error {
			_, err := devkey.IssueDevice(p.ca, p.caKey, &p.p384.PublicKey, "a", synthNow, 0)
			return err
		},
		"a year": func() error {
			_, err := devkey.IssueDevice(p.ca, p.caKey, &key.PublicKey, "a", synthNow, 365*24*time.Hour)
			return err
		},
		"negative": func() error {
			_, err := devkey.IssueDevice(p.ca, p.caKey, &key.PublicKey, "a", synthNow, -time.Hour)
			return err
		},
		"CA expired": func() error {
			_, err := devkey.IssueDevice(shortCA, shortKey, &key.PublicKey, "a", synthNow.AddDate(0, 0, 2), 0)
			return err
		},
		"negative CA":    func() error { _, _, err := devkey.NewCA(synthNow, -time.Hour); return err },
		"short hash":     func() error { _, err := p.device.Attest(synthHash[:31]); return err },
		"empty attestor": func() error { _, err := devkey.Attestor{}.Attest(synthHash); return err },
	} {
		if issue() == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestParseCAs(t *testing.T) {
	p := pki(t)
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: p.ca.Raw})
	two := append(append([]byte{}, certPEM...), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: p.otherCA.Raw})...)
	cas, err := devkey.ParseCAs(two)
	if err != nil || len(cas) != 2 || !cas[0].Equal(p.ca) {
		t.Fatalf("ParseCAs: %v, %d", err, len(cas))
	}
	keyDER, _ := x509.MarshalPKCS8PrivateKey(p.caKey)
	withKey := append(append([]byte{}, certPEM...), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})...)
	for name, in := range map[string][]byte{
		"CA key with the CA": withKey,
		"empty":              nil,
		"garbage":            pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte("x")}),
	} {
		if _, err := devkey.ParseCAs(in); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestVerifierConcurrent shares one compiled Verifier (run under -race).
func TestVerifierConcurrent(t *testing.T) {
	v, err := devkey.New(synthPolicy(t))
	if err != nil {
		t.Fatal(err)
	}
	ev := evidence(t)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 20 {
				if r := v.Verify(ev, synthExpect(), synthNow); !r.Valid {
					t.Errorf("refused: %v", r.Reasons)
				}
			}
		})
	}
	wg.Wait()
	var nilVerifier *devkey.Verifier
	if r := nilVerifier.Verify(ev, synthExpect(), synthNow); r.Reason != devkey.ReasonInvalidPolicy {
		t.Errorf("nil verifier: %v", r.Reasons)
	}
}

func TestFiles(t *testing.T) {
	p := pki(t)
	dir := t.TempDir()
	if err := devkey.WriteCA(dir, p.ca, p.caKey); err != nil {
		t.Fatal(err)
	}
	if err := devkey.WriteCA(dir, p.ca, p.caKey); err == nil {
		t.Error("WriteCA overwrote a CA")
	}
	ca, key, err := devkey.ReadCA(dir)
	if err != nil || !ca.Equal(p.ca) || !key.Equal(p.caKey) {
		t.Fatalf("ReadCA: %v", err)
	}
	if err := devkey.WriteAttestor(dir, p.device); err != nil {
		t.Fatal(err)
	}
	a, err := devkey.ReadAttestor(dir)
	if err != nil || !bytes.Equal(a.Chain[0], p.device.Chain[0]) {
		t.Fatalf("ReadAttestor: %v", err)
	}
	for name, mode := range map[string]os.FileMode{devkey.CAKeyFile: 0o600, devkey.DeviceKeyFile: 0o600, devkey.CACertFile: 0o644} {
		if st, err := os.Stat(filepath.Join(dir, name)); err != nil || st.Mode().Perm() != mode {
			t.Errorf("%s: mode %v, %v", name, st.Mode(), err)
		}
	}
	// A key that is not the certificate's is refused.
	mixed := t.TempDir()
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err := devkey.WriteCA(mixed, p.ca, other); err != nil {
		t.Fatal(err)
	}
	if _, _, err := devkey.ReadCA(mixed); err == nil {
		t.Error("ReadCA accepted another key")
	}
	if _, err := devkey.ReadAttestor(t.TempDir()); err == nil {
		t.Error("ReadAttestor of an empty directory")
	}
	if err := devkey.WriteAttestor(t.TempDir(), &devkey.Attestor{Device: p.ed, Chain: p.device.Chain}); err == nil {
		t.Error("WriteAttestor wrote an Ed25519 key")
	}
}
