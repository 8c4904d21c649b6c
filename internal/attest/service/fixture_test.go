package service_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/drawbridge-gw/drawbridge/internal/attest/androidkey"
	"github.com/drawbridge-gw/drawbridge/internal/attest/androidkey/androidkeytest"
	"github.com/drawbridge-gw/drawbridge/internal/attest/appattest"
	"github.com/drawbridge-gw/drawbridge/internal/attest/appattest/appattesttest"
	"github.com/drawbridge-gw/drawbridge/internal/attest/devkey"
	"github.com/drawbridge-gw/drawbridge/internal/attest/playintegrity"
	"github.com/drawbridge-gw/drawbridge/internal/attest/playintegrity/playintegritytest"
	"github.com/drawbridge-gw/drawbridge/internal/attest/service"
	"github.com/drawbridge-gw/drawbridge/internal/store"
	"github.com/drawbridge-gw/drawbridge/internal/store/memory"
	"github.com/drawbridge-gw/drawbridge/internal/token"
)

// produced records every service reason a test saw, so that TestMain can
// fail when one is never produced.
var produced sync.Map

func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 && !testing.Short() && runsEverything() {
		var missing []string
		for _, r := range service.Reasons {
			if _, ok := produced.Load(r); !ok {
				missing = append(missing, r)
			}
		}
		if len(missing) > 0 {
			sort.Strings(missing)
			fmt.Fprintf(os.Stderr, "FAIL: service reasons never produced by a test:\n  %s\n", strings.Join(missing, "\n  "))
			code = 1
		}
	}
	os.Exit(code)
}

func runsEverything() bool {
	for _, a := range os.Args {
		if strings.HasPrefix(a, "-test.run") || strings.HasPrefix(a, "-test.bench") {
			return false
		}
	}
	return true
}

// wantReason fails unless err is a *service.Error with the reason, and
// records the reason as produced. It returns the error.
func wantReason(t testing.TB, err error, reason string) *service.Error {
	t.Helper()
	var se *service.Error
	if !errors.As(err, &se) {
		t.Fatalf("error %v (%T), want a *service.Error with reason %s", err, err, reason)
	}
	if se.Reason() != reason {
		t.Fatalf("reason %s (%v), want %s", se.Reason(), err, reason)
	}
	produced.Store(reason, true)
	return se
}

// The apps of every fixture.
const (
	teamID      = "TEAM123456"
	bundleID    = "com.example.shop"
	androidPkg  = "com.example.shop"
	appIOS      = "shop-ios"      // production App Attest, min 2.0, 2.1.3 blocked
	appIOSDev   = "shop-ios-dev"  // App Attest, production and development
	appAndroid  = "shop-android"  // Android key attestation, TEE or better
	appAndroidL = "shop-android2" // a second Android app, same package
	appPlay     = "shop-play"     // Play Integrity
	appDevCI    = "shop-ci"       // development attestation, production and development
	appDevProd  = "shop-ci-prod"  // development attestation configured, production only
)

var androidDigest = bytes.Repeat([]byte{0xd1}, 32)

// clock is the fixture's settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// fixture is a service over real stores (memory unless a test gives
// others), with test roots injected into its apps.
type fixture struct {
	t        testing.TB
	clock    *clock
	hot      store.Hot
	durable  store.Durable
	controls *service.Controls
	issuer   *service.Issuer
	svc      *service.Service
	apple    *appattesttest.Authority
	android  *androidkeytest.Authority
	play     *playintegritytest.Keys
	devCA    *x509.Certificate
	devCAKey *ecdsa.PrivateKey
	apps     map[string]*service.App
}

type fixtureOpts struct {
	hot     store.Hot
	durable store.Durable
}

// Authorities are slow to make (key generation): one per test binary.
var (
	appleAuthority   = sync.OnceValue(appattesttest.NewAuthority)
	androidAuthority = sync.OnceValue(androidkeytest.NewAuthority)
	playKeys         = sync.OnceValue(func() *playintegritytest.Keys {
		k, err := playintegritytest.NewKeys()
		if err != nil {
			panic(err)
		}
		return k
	})
)

func newFixture(t testing.TB, opts ...func(*fixtureOpts)) *fixture {
	t.Helper()
	var o fixtureOpts
	for _, f := range opts {
		f(&o)
	}
	f := &fixture{t: t, clock: &clock{t: time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC)}, apple: appleAuthority(), android: androidAuthority()}
	f.hot = o.hot
	if f.hot == nil {
		h := memory.NewHot(memory.HotOptions{Now: f.clock.Now, SweepInterval: -1})
		t.Cleanup(func() { h.Close() })
		f.hot = h
	}
	f.durable = o.durable
	if f.durable == nil {
		f.durable = memory.NewDurable()
	}
	var err error
	f.controls, err = service.NewControls(context.Background(), f.durable, 20*time.Millisecond, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.controls.Close)
	key, err := token.GenerateKey("EdDSA")
	if err != nil {
		t.Fatal(err)
	}
	if f.issuer, err = service.NewIssuer("https://gw.test", []*token.Key{key}); err != nil {
		t.Fatal(err)
	}
	apple := func() *appattest.Expect {
		return &appattest.Expect{TeamID: teamID, BundleID: bundleID, Roots: f.apple.Roots, ReceiptRoots: f.apple.ReceiptRoots}
	}
	android := func() *androidkey.Policy {
		return &androidkey.Policy{
			Apps:         []androidkey.App{{Package: androidPkg, SigningCertDigests: [][]byte{androidDigest}, MinVersionCode: 3}},
			TrustedRoots: f.android.TrustedRoots(),
		}
	}
	f.play = playKeys()
	f.devCA, f.devCAKey, err = devkey.NewCA(f.clock.Now(), 0)
	if err != nil {
		t.Fatal(err)
	}
	play, err := playintegrity.New(playintegrity.Policy{
		Package: androidPkg, DecryptionKey: f.play.Decryption, VerificationKey: &f.play.Signing.PublicKey,
		SigningCertDigests: [][]byte{androidDigest}, MinVersionCode: 3,
	})
	if err != nil {
		t.Fatal(err)
	}
	dev := func(app string, allow bool) *devkey.Verifier {
		v, err := devkey.New(devkey.Policy{App: app, CAs: []*x509.Certificate{f.devCA}, AllowDevelopment: allow})
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	f.apps = map[string]*service.App{
		appPlay:    {ID: appPlay, Play: play},
		appDevCI:   {ID: appDevCI, Dev: dev(appDevCI, true), Environments: []string{"production", "development"}},
		appDevProd: {ID: appDevProd, Dev: dev(appDevProd, false)},
		appIOS: {ID: appIOS, Apple: apple(), Environments: []string{"production"}, TokenTTL: 5 * time.Minute,
			MinVersion: "2.0", Blocked: []string{"2.1.3"}},
		appIOSDev:   {ID: appIOSDev, Apple: apple(), Environments: []string{"production", "development"}, TokenTTL: time.Minute},
		appAndroid:  {ID: appAndroid, Android: android(), TokenTTL: 10 * time.Minute},
		appAndroidL: {ID: appAndroidL, Android: android()},
	}
	f.svc, err = service.New(service.Options{
		Apps: f.apps, Issuer: f.issuer, Hot: f.hot, Devices: f.durable, Controls: f.controls, Now: f.clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// challenge fetches a fresh challenge for app.
func (f *fixture) challenge(app string) string {
	f.t.Helper()
	c, err := f.svc.NewChallenge(context.Background(), app)
	if err != nil {
		f.t.Fatalf("challenge for %s: %v", app, err)
	}
	return c.Challenge
}

// refresh makes the fixture's controls read the store now.
func (f *fixture) refresh() {
	f.t.Helper()
	if err := f.controls.Refresh(context.Background()); err != nil {
		f.t.Fatal(err)
	}
}

// signer is an app's request-signing key K.
type signer struct {
	key *ecdsa.PrivateKey
	jwk []byte
	jkt string
}

func newSigner(t testing.TB) *signer {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return signerOf(t, k)
}

func signerOf(t testing.TB, k *ecdsa.PrivateKey) *signer {
	tk, err := token.NewKey(&k.PublicKey, "", "")
	if err != nil {
		t.Fatal(err)
	}
	jwk, err := tk.PublicJWK()
	if err != nil {
		t.Fatal(err)
	}
	jkt, err := token.Thumbprint(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return &signer{key: k, jwk: jwk, jkt: jkt}
}

// clientData forms the client data for a challenge and returns it with
// its hash.
func (s *signer) clientData(challenge string) ([]byte, []byte) {
	cd := service.FormatClientData(challenge, s.jkt)
	h := sha256.Sum256(cd)
	return cd, h[:]
}

// appleAttempt is an App Attest exchange about to be made: tests edit it
// before calling do.
type appleAttempt struct {
	f      *fixture
	signer *signer
	att    *appattesttest.Attested
	req    service.AppleRequest
	env    string
}

// appleExchange builds a valid App Attest exchange for app in env.
func (f *fixture) appleExchange(app, env, version string) *appleAttempt {
	f.t.Helper()
	s := newSigner(f.t)
	cd, hash := s.clientData(f.challenge(app))
	att := f.apple.Attest(appattesttest.Attestation{TeamID: teamID, BundleID: bundleID, Environment: env, ClientDataHash: hash, At: f.clock.Now()})
	return &appleAttempt{f: f, signer: s, att: att, env: env, req: service.AppleRequest{
		Request: service.Request{App: app, ClientData: cd, SigningKey: s.jwk, AppVersion: version},
		KeyID:   att.KeyIDBase64(), Attestation: att.ObjectBase64(),
	}}
}

func (a *appleAttempt) do() (*service.Issued, error) {
	return a.f.svc.ExchangeApple(context.Background(), &a.req)
}

// mustDo makes the exchange and fails the test if it is refused.
func (a *appleAttempt) mustDo() *service.Issued {
	a.f.t.Helper()
	iss, err := a.do()
	if err != nil {
		a.f.t.Fatalf("App Attest exchange: %v", err)
	}
	return iss
}

// assertion builds an assertion refresh for an attested key, signed with
// counter, over a new challenge and the signing key s.
func (f *fixture) assertion(app string, att *appattesttest.Attested, s *signer, counter uint32, version string) *service.AppleAssertionRequest {
	f.t.Helper()
	cd, _ := s.clientData(f.challenge(app))
	a := appattesttest.Assertion(att.Key, teamID, bundleID, counter, cd)
	return &service.AppleAssertionRequest{
		Request: service.Request{App: app, ClientData: cd, AppVersion: version},
		KeyID:   att.KeyIDBase64(), Assertion: base64.StdEncoding.EncodeToString(a),
	}
}

// androidExchange builds a valid Android exchange. With separate, K is a
// key of its own sent as signing_key; without, the attested key is K.
func (f *fixture) androidExchange(app string, separate bool, edit func(*androidkeytest.Attestation)) (*service.AndroidRequest, *androidkeytest.Chain, *signer) {
	f.t.Helper()
	attested, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		f.t.Fatal(err)
	}
	s := signerOf(f.t, attested)
	if separate {
		s = newSigner(f.t)
	}
	cd, hash := s.clientData(f.challenge(app))
	a := androidkeytest.Attestation{
		Challenge: hash, Package: androidPkg, VersionCode: 7, SigningCertDigests: [][]byte{androidDigest},
		SecurityLevel: androidkey.TrustedEnvironment, OSPatchLevel: 203104, Key: attested, At: f.clock.Now(),
	}
	if edit != nil {
		edit(&a)
	}
	chain := f.android.Attest(a)
	req := &service.AndroidRequest{Request: service.Request{App: app, ClientData: cd, AppVersion: "3.1.0"}}
	if separate {
		req.SigningKey = s.jwk
	}
	for _, der := range chain.DER {
		req.CertificateChain = append(req.CertificateChain, base64.StdEncoding.EncodeToString(der))
	}
	return req, chain, s
}

func sha256Of(b []byte) []byte {
	h := sha256.Sum256(b)
	return h[:]
}

func mustPKIX(t testing.TB, pub any) []byte {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func asError(err error, target **service.Error) bool { return errors.As(err, target) }

// assertionWith signs an App Attest assertion for the fixture's iOS app
// with any key.
func assertionWith(key *ecdsa.PrivateKey, clientData []byte, counter uint32) []byte {
	return appattesttest.Assertion(key, teamID, bundleID, counter, clientData)
}
