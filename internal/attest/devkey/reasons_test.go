package devkey_test

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/drawbridge-gw/drawbridge/internal/attest/devkey"
)

type reasonCase struct {
	name     string
	evidence func(t *testing.T, p *testPKI) devkey.Evidence // nil: the default device's
	policy   func(pk *testPKI, p *devkey.Policy)
	exp      func(e *devkey.Expect)
	at       time.Time // zero: synthNow
	zeroAt   bool
	want     []string // nil: valid
}

// handMade is evidence of a device certificate made by deviceCert under
// the development CA (edit changes it), for a fresh device key, signed
// over the synthetic hash.
func handMade(edit func(*x509.Certificate)) func(*testing.T, *testPKI) devkey.Evidence {
	return func(t *testing.T, p *testPKI) devkey.Evidence {
		der := deviceCert(t, p.ca, p.caKey, &p.otherKey.PublicKey, edit)
		return devkey.Evidence{Chain: [][]byte{der}, Signature: signWith(t, p.otherKey, synthHash)}
	}
}

func withChain(edit func(chain [][]byte) [][]byte) func(*testing.T, *testPKI) devkey.Evidence {
	return func(t *testing.T, _ *testPKI) devkey.Evidence {
		ev := evidence(t)
		ev.Chain = edit(ev.Chain)
		return ev
	}
}

func withSignature(sig func(t *testing.T, p *testPKI) []byte) func(*testing.T, *testPKI) devkey.Evidence {
	return func(t *testing.T, p *testPKI) devkey.Evidence {
		ev := evidence(t)
		ev.Signature = sig(t, p)
		return ev
	}
}

func reasonCases() []reasonCase {
	const (
		invalidPolicy = devkey.ReasonInvalidPolicy
		envNotAllowed = devkey.ReasonEnvironmentNotAllowed
		tooLarge      = devkey.ReasonTooLarge
		malformed     = devkey.ReasonMalformedChain
		untrusted     = devkey.ReasonUntrustedCA
		expired       = devkey.ReasonCertExpired
		notYetValid   = devkey.ReasonCertNotYetValid
		badCert       = devkey.ReasonBadDeviceCert
		wrongApp      = devkey.ReasonWrongApp
		badSignature  = devkey.ReasonBadSignature
	)
	deviceNotAfter := synthNow.Add(devkey.DefaultDeviceLifetime)
	return []reasonCase{
		{name: "valid"},
		{name: "valid with the CA in the chain", evidence: func(t *testing.T, p *testPKI) devkey.Evidence {
			ev := evidence(t)
			ev.Chain = append(ev.Chain, p.ca.Raw)
			return ev
		}},
		{name: "valid through an intermediate of a root that allows one", evidence: func(t *testing.T, p *testPKI) devkey.Evidence {
			_, inter := longerPath(t)
			der := deviceCert(t, inter.cert, inter.key, &p.otherKey.PublicKey, nil)
			return devkey.Evidence{Chain: [][]byte{der, inter.cert.Raw}, Signature: signWith(t, p.otherKey, synthHash)}
		}, policy: func(pk *testPKI, p *devkey.Policy) { p.CAs = []*x509.Certificate{longerPathRoot(pk)} }},
		{name: "valid at the last second", at: deviceNotAfter},
		{name: "valid, second CA listed", policy: func(pk *testPKI, p *devkey.Policy) { p.CAs = append([]*x509.Certificate{pk.otherCA}, p.CAs...) }},

		{name: "no app", policy: func(pk *testPKI, p *devkey.Policy) { p.App = "" }, want: []string{invalidPolicy}},
		{name: "app with a slash", policy: func(pk *testPKI, p *devkey.Policy) { p.App = "shop/ios" }, want: []string{invalidPolicy}},
		{name: "no CA", policy: func(pk *testPKI, p *devkey.Policy) { p.CAs = nil }, want: []string{invalidPolicy}},
		{name: "nil CA", policy: func(pk *testPKI, p *devkey.Policy) { p.CAs = []*x509.Certificate{nil} }, want: []string{invalidPolicy}},
		{name: "device certificate as CA", policy: func(pk *testPKI, p *devkey.Policy) {
			c, _ := x509.ParseCertificate(pk.device.Chain[0])
			p.CAs = []*x509.Certificate{c}
		}, want: []string{invalidPolicy}},
		{name: "short client data hash", exp: func(e *devkey.Expect) { e.ClientDataHash = e.ClientDataHash[:16] }, want: []string{invalidPolicy}},
		{name: "zero time", zeroAt: true, want: []string{invalidPolicy}},

		{name: "production policy", policy: func(pk *testPKI, p *devkey.Policy) { p.AllowDevelopment = false }, want: []string{envNotAllowed}},
		{name: "production policy, other app's device", policy: func(pk *testPKI, p *devkey.Policy) { p.AllowDevelopment, p.App = false, "bank-ios" },
			want: []string{envNotAllowed, wrongApp}},

		{name: "five certificates", evidence: withChain(func(c [][]byte) [][]byte { return append(c, c[0], c[0], c[0], c[0]) }), want: []string{tooLarge}},
		{name: "oversized certificate", evidence: withChain(func(c [][]byte) [][]byte { return [][]byte{c[0], make([]byte, devkey.MaxCertSize+1)} }), want: []string{tooLarge}},
		{name: "oversized signature", evidence: withSignature(func(*testing.T, *testPKI) []byte { return make([]byte, devkey.MaxSignatureSize+1) }), want: []string{tooLarge}},
		{name: "oversized, production policy", evidence: withChain(func(c [][]byte) [][]byte { return [][]byte{make([]byte, devkey.MaxCertSize+1)} }),
			policy: func(pk *testPKI, p *devkey.Policy) { p.AllowDevelopment = false }, want: []string{envNotAllowed, tooLarge}},

		{name: "no certificate", evidence: withChain(func([][]byte) [][]byte { return nil }), want: []string{malformed}},
		{name: "garbage certificate", evidence: withChain(func([][]byte) [][]byte { return [][]byte{[]byte("not DER")} }), want: []string{malformed}},
		{name: "truncated certificate", evidence: withChain(func(c [][]byte) [][]byte { return [][]byte{c[0][:len(c[0])-1]} }), want: []string{malformed}},

		{name: "other CA's device", evidence: func(t *testing.T, p *testPKI) devkey.Evidence {
			a, err := devkey.NewAttestor(p.otherCA, p.otherCAKey, synthApp, synthNow, 0)
			if err != nil {
				t.Fatal(err)
			}
			ev, _ := a.Attest(synthHash)
			return ev
		}, want: []string{untrusted}},
		{name: "other CA's device with the trusted CA in the chain", evidence: func(t *testing.T, p *testPKI) devkey.Evidence {
			der := deviceCert(t, p.otherCA, p.otherCAKey, &p.otherKey.PublicKey, nil)
			return devkey.Evidence{Chain: [][]byte{der, p.ca.Raw}, Signature: signWith(t, p.otherKey, synthHash)}
		}, want: []string{untrusted}},
		{name: "self-signed device", evidence: func(t *testing.T, p *testPKI) devkey.Evidence {
			der := deviceCert(t, nil, p.otherKey, &p.otherKey.PublicKey, nil)
			return devkey.Evidence{Chain: [][]byte{der}, Signature: signWith(t, p.otherKey, synthHash)}
		}, want: []string{untrusted}},
		{name: "intermediate under a dev-ca CA (path length 0)", evidence: func(t *testing.T, p *testPKI) devkey.Evidence {
			inter, key := intermediate(t, nil)
			der := deviceCert(t, inter, key, &p.otherKey.PublicKey, nil)
			return devkey.Evidence{Chain: [][]byte{der, inter.Raw}, Signature: signWith(t, p.otherKey, synthHash)}
		}, want: []string{untrusted}},
		{name: "intermediate that is not a CA", evidence: func(t *testing.T, p *testPKI) devkey.Evidence {
			inter, key := intermediate(t, func(c *x509.Certificate) { c.IsCA, c.KeyUsage = false, x509.KeyUsageDigitalSignature })
			der := deviceCert(t, inter, key, &p.otherKey.PublicKey, nil)
			return devkey.Evidence{Chain: [][]byte{der, inter.Raw}, Signature: signWith(t, p.otherKey, synthHash)}
		}, want: []string{untrusted}},
		{name: "untrusted and expired", evidence: func(t *testing.T, p *testPKI) devkey.Evidence {
			der := deviceCert(t, p.otherCA, p.otherCAKey, &p.otherKey.PublicKey, func(c *x509.Certificate) { c.NotAfter = synthNow.Add(-time.Minute) })
			return devkey.Evidence{Chain: [][]byte{der}, Signature: signWith(t, p.otherKey, synthHash)}
		}, want: []string{untrusted, expired}},

		{name: "device expired", at: deviceNotAfter.Add(time.Second), want: []string{expired}},
		{name: "CA expired, device not", evidence: handMade(func(c *x509.Certificate) { c.NotAfter = synthNow.AddDate(5, 0, 0) }),
			at: synthNow.AddDate(3, 0, 0), want: []string{expired}},
		{name: "not yet valid", at: synthNow.Add(-time.Hour), want: []string{notYetValid}},
		{name: "device not yet valid, CA valid", evidence: handMade(func(c *x509.Certificate) { c.NotBefore = synthNow.Add(time.Minute) }),
			want: []string{notYetValid}},
		{name: "CA not yet valid", at: synthNow.AddDate(0, -2, 0), want: []string{notYetValid}},

		{name: "device certificate is a CA", evidence: handMade(func(c *x509.Certificate) {
			c.IsCA, c.KeyUsage = true, x509.KeyUsageDigitalSignature|x509.KeyUsageCertSign
		}),
			want: []string{badCert}},
		{name: "no key usage", evidence: handMade(func(c *x509.Certificate) { c.KeyUsage = 0 }), want: []string{badCert}},
		{name: "key agreement only", evidence: handMade(func(c *x509.Certificate) { c.KeyUsage = x509.KeyUsageKeyAgreement }), want: []string{badCert}},
		{name: "P-384 device key", evidence: func(t *testing.T, p *testPKI) devkey.Evidence {
			der := deviceCert(t, p.ca, p.caKey, &p.p384.PublicKey, nil)
			return devkey.Evidence{Chain: [][]byte{der}, Signature: signWith(t, p.p384, synthHash)}
		}, want: []string{badCert, badSignature}},
		{name: "Ed25519 device key", evidence: func(t *testing.T, p *testPKI) devkey.Evidence {
			der := deviceCert(t, p.ca, p.caKey, p.ed.Public(), nil)
			return devkey.Evidence{Chain: [][]byte{der}, Signature: []byte("ed25519 signature")}
		}, want: []string{badCert, badSignature}},

		{name: "other app", policy: func(pk *testPKI, p *devkey.Policy) { p.App = "bank-ios" }, want: []string{wrongApp}},
		{name: "app differs in case", policy: func(pk *testPKI, p *devkey.Policy) { p.App = "Shop-iOS" }, want: []string{wrongApp}},
		{name: "no app URI", evidence: handMade(func(c *x509.Certificate) { c.URIs = nil }), want: []string{wrongApp}},
		{name: "two apps", evidence: handMade(func(c *x509.Certificate) {
			c.URIs = mustURLs(devkey.AppURI(synthApp), devkey.AppURI("bank-ios"))
		}), want: []string{wrongApp}},
		{name: "app URI with a host", evidence: handMade(func(c *x509.Certificate) { c.URIs = mustURLs("drawbridge-dev://app/" + synthApp) }), want: []string{wrongApp}},
		{name: "app URI with a query", evidence: handMade(func(c *x509.Certificate) { c.URIs = mustURLs(devkey.AppURI(synthApp) + "?x=1") }), want: []string{wrongApp}},
		{name: "app in the common name only", evidence: handMade(func(c *x509.Certificate) { c.URIs, c.Subject.CommonName = nil, synthApp }), want: []string{wrongApp}},
		{name: "other URIs ignored", evidence: handMade(func(c *x509.Certificate) {
			c.URIs = mustURLs("https://example.com/", devkey.AppURI(synthApp))
		})},

		{name: "signature of other client data", exp: func(e *devkey.Expect) { e.ClientDataHash = otherHash }, want: []string{badSignature}},
		{name: "signature by another key", evidence: withSignature(func(t *testing.T, p *testPKI) []byte { return signWith(t, p.otherKey, synthHash) }),
			want: []string{badSignature}},
		{name: "signature over the hash without hashing", evidence: withSignature(func(t *testing.T, p *testPKI) []byte {
			sig, err := p.deviceKey.Sign(rand.Reader, synthHash, crypto.SHA256)
			if err != nil {
				t.Fatal(err)
			}
			return sig
		}), want: []string{badSignature}},
		{name: "no signature", evidence: withSignature(func(*testing.T, *testPKI) []byte { return nil }), want: []string{badSignature}},
		{name: "signature in P1363 form", evidence: withSignature(func(t *testing.T, p *testPKI) []byte { return bytes.Repeat([]byte{1}, 64) }),
			want: []string{badSignature}},

		{name: "everything wrong at once", evidence: func(t *testing.T, p *testPKI) devkey.Evidence {
			der := deviceCert(t, p.otherCA, p.otherCAKey, &p.p384.PublicKey, func(c *x509.Certificate) {
				c.NotAfter, c.KeyUsage, c.URIs = synthNow.Add(-time.Minute), 0, nil
			})
			return devkey.Evidence{Chain: [][]byte{der}, Signature: []byte{0x30, 0}}
		}, policy: func(pk *testPKI, p *devkey.Policy) { p.AllowDevelopment = false },
			want: []string{envNotAllowed, untrusted, expired, badCert, wrongApp, badSignature}},
	}
}

func TestReasons(t *testing.T) {
	produced := map[string]bool{}
	p := pki(t)
	for _, c := range reasonCases() {
		t.Run(c.name, func(t *testing.T) {
			ev := evidence(t)
			if c.evidence != nil {
				ev = c.evidence(t, p)
			}
			pol := synthPolicy(t)
			if c.policy != nil {
				c.policy(p, &pol)
			}
			exp := synthExpect()
			if c.exp != nil {
				c.exp(&exp)
			}
			at := synthNow
			switch {
			case c.zeroAt:
				at = time.Time{}
			case !c.at.IsZero():
				at = c.at
			}
			r := devkey.Verify(ev, exp, pol, at)
			for _, code := range r.Reasons {
				produced[code] = true
			}
			if diff := cmp.Diff(c.want, r.Reasons); diff != "" {
				t.Errorf("reasons (-want +got):\n%s", diff)
			}
			if r.Valid != (len(c.want) == 0) || len(c.want) > 0 && r.Reason != c.want[0] {
				t.Errorf("Valid %v Reason %q, want first of %v", r.Valid, r.Reason, c.want)
			}
			if r.Facts.Platform != "dev" || r.Facts.Environment != "development" {
				t.Errorf("platform %q environment %q", r.Facts.Platform, r.Facts.Environment)
			}
		})
	}
	for _, code := range devkey.Reasons {
		if !produced[code] {
			t.Errorf("reason %s is declared but no case produces it", code)
		}
	}
}

func TestReasonsDeclared(t *testing.T) {
	seen := map[string]bool{}
	for _, code := range devkey.Reasons {
		if !strings.HasPrefix(code, "devkey.") || seen[code] {
			t.Errorf("bad or duplicate reason %q", code)
		}
		seen[code] = true
	}
}
