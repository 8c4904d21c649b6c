package devkey_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/drawbridge-gw/drawbridge/internal/attest/devkey"
)

// The test PKI is made at test time, as the operator makes theirs with
// `drawbridge attestation dev-ca`: no CA key is ever committed.

var (
	synthNow   = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	synthApp   = "shop-ios"
	clientData = []byte(`{"challenge":"q3T2Zk1xYz","jkt":"NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"}`)
	synthHash  = func() []byte { h := sha256.Sum256(clientData); return h[:] }()
	synthJKT   = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
	otherHash  = func() []byte { h := sha256.Sum256([]byte("other client data")); return h[:] }()
)

type testPKI struct {
	ca, otherCA       *x509.Certificate
	caKey, otherCAKey *ecdsa.PrivateKey
	device            *devkey.Attestor // issued by ca for synthApp at synthNow
	deviceKey         *ecdsa.PrivateKey
	otherKey          *ecdsa.PrivateKey
	p384              *ecdsa.PrivateKey
	ed                ed25519.PrivateKey
}

var pkiOnce = sync.OnceValues(func() (*testPKI, error) {
	p := &testPKI{}
	var err error
	if p.ca, p.caKey, err = devkey.NewCA(synthNow.AddDate(0, -1, 0), 0); err != nil {
		return nil, err
	}
	if p.otherCA, p.otherCAKey, err = devkey.NewCA(synthNow.AddDate(0, -1, 0), 0); err != nil {
		return nil, err
	}
	if p.device, err = devkey.NewAttestor(p.ca, p.caKey, synthApp, synthNow, 0); err != nil {
		return nil, err
	}
	p.deviceKey = p.device.Device.(*ecdsa.PrivateKey)
	if p.otherKey, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
		return nil, err
	}
	if p.p384, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader); err != nil {
		return nil, err
	}
	_, p.ed, err = ed25519.GenerateKey(rand.Reader)
	return p, err
})

func pki(tb testing.TB) *testPKI {
	tb.Helper()
	p, err := pkiOnce()
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

func synthPolicy(tb testing.TB) devkey.Policy {
	return devkey.Policy{App: synthApp, CAs: []*x509.Certificate{pki(tb).ca}, AllowDevelopment: true}
}

func synthExpect() devkey.Expect {
	return devkey.Expect{ClientDataHash: synthHash, BoundKey: synthJKT}
}

// evidence is the default device's evidence over the synthetic hash.
func evidence(tb testing.TB) devkey.Evidence {
	tb.Helper()
	ev, err := pki(tb).device.Attest(synthHash)
	if err != nil {
		tb.Fatal(err)
	}
	return ev
}

// signWith signs hash as the device would, with key.
func signWith(tb testing.TB, key crypto.Signer, hash []byte) []byte {
	tb.Helper()
	d := sha256.Sum256(hash)
	sig, err := key.Sign(rand.Reader, d[:], crypto.SHA256)
	if err != nil {
		tb.Fatal(err)
	}
	return sig
}

// deviceCert issues a device certificate by hand, for what IssueDevice
// refuses to make: edit changes the template of a valid one.
func deviceCert(tb testing.TB, parent *x509.Certificate, parentKey crypto.Signer, pub crypto.PublicKey, edit func(*x509.Certificate)) []byte {
	tb.Helper()
	u, _ := url.Parse(devkey.AppURI(synthApp))
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: "hand-made device"},
		NotBefore:             synthNow.Add(-time.Hour),
		NotAfter:              synthNow.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		URIs:                  []*url.URL{u},
	}
	if edit != nil {
		edit(tmpl)
	}
	if parent == nil {
		parent = tmpl
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, parentKey)
	if err != nil {
		tb.Fatal(err)
	}
	return der
}

// intermediate is a CA under the development CA, for teams that add one.
func intermediate(tb testing.TB, edit func(*x509.Certificate)) (*x509.Certificate, *ecdsa.PrivateKey) {
	tb.Helper()
	p := pki(tb)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	der := deviceCert(tb, p.ca, p.caKey, &key.PublicKey, func(c *x509.Certificate) {
		c.Subject.CommonName = "team intermediate"
		c.IsCA, c.KeyUsage, c.URIs = true, x509.KeyUsageCertSign, nil
		if edit != nil {
			edit(c)
		}
	})
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		tb.Fatal(err)
	}
	return cert, key
}

// mustURLs parses constant URIs.
func mustURLs(s ...string) []*url.URL {
	var out []*url.URL
	for _, x := range s {
		u, err := url.Parse(x)
		if err != nil {
			panic(err)
		}
		out = append(out, u)
	}
	return out
}

type certKey struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

// longerPath is a root that allows one intermediate (made by other tools
// than dev-ca), and an intermediate under it.
var longerPathOnce = sync.OnceValues(func() ([2]certKey, error) {
	var out [2]certKey
	for i := range out {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return out, err
		}
		tmpl := &x509.Certificate{
			SerialNumber:          big.NewInt(int64(i + 10)),
			Subject:               pkix.Name{CommonName: []string{"team root", "team intermediate"}[i]},
			NotBefore:             synthNow.AddDate(0, -1, 0),
			NotAfter:              synthNow.AddDate(1, 0, 0),
			KeyUsage:              x509.KeyUsageCertSign,
			BasicConstraintsValid: true,
			IsCA:                  true,
			MaxPathLen:            1 - i,
			MaxPathLenZero:        i == 1,
		}
		parent, parentKey := tmpl, key
		if i == 1 {
			parent, parentKey = out[0].cert, out[0].key
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
		if err != nil {
			return out, err
		}
		if out[i].cert, err = x509.ParseCertificate(der); err != nil {
			return out, err
		}
		out[i].key = key
	}
	return out, nil
})

func longerPath(tb testing.TB) (root, inter certKey) {
	tb.Helper()
	p, err := longerPathOnce()
	if err != nil {
		tb.Fatal(err)
	}
	return p[0], p[1]
}

func longerPathRoot(*testPKI) *x509.Certificate {
	p, err := longerPathOnce()
	if err != nil {
		panic(err)
	}
	return p[0].cert
}
