package demo

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/drawbridge-gw/drawbridge/client"
	"github.com/drawbridge-gw/drawbridge/internal/attest/devkey"
	"github.com/drawbridge-gw/drawbridge/internal/attest/service"
	"github.com/drawbridge-gw/drawbridge/internal/token"
)

// The demo's app attestation: a development CA and devices (the demo has
// no phones), made at start in a temporary directory that the demo
// removes at exit. The CA's private key never leaves memory; the device
// key the tour's `drawbridge client` commands use, the gateway's token
// signing key (so that the demo can mint an expired token) and the
// operator token are files there, mode 0600.

// Files in the demo's directory.
const (
	DeviceDir    = "device"        // the development device of app shop
	ExchangeFile = "exchange.json" // a ready-made development exchange request
	AdminToken   = "admin-token"   // the operator token
	caFile       = "dev-ca.pem"
	signingFile  = "attestation-signing-key.pem"
)

// The versions the tour's tokens report; the demo blocks BlockedVersion.
const (
	AppVersion     = "1.4.0"
	BlockedVersion = "1.3.0"
)

// AppTokens are the attestation tokens the demo obtains at start for the
// tour's curl commands.
type AppTokens struct {
	// Valid is app shop's token, bound to the demo device's key.
	Valid string
	// Expired is the same install's token that expired an hour ago.
	Expired string
	// Kiosk is a valid token of the kiosk app.
	Kiosk string
	// Revoked is the token of an install the demo revoked.
	Revoked string
	// OldVersion is a token of version BlockedVersion, which the demo
	// blocked.
	OldVersion string
}

// Attestation is what the demo makes before the gateway starts.
type Attestation struct {
	dir        string
	ca         *x509.Certificate
	caKey      *ecdsa.PrivateKey
	device     *client.DevAttestor
	adminToken string
}

// NewAttestation makes the development CA, the device of app shop
// (dir/device), the gateway's token signing key and the operator token in
// dir.
func NewAttestation(dir string, now time.Time) (*Attestation, error) {
	ca, caKey, err := devkey.NewCA(now, 0)
	if err != nil {
		return nil, err
	}
	a := &Attestation{dir: dir, ca: ca, caKey: caKey, adminToken: rand.Text()}
	dev, err := devkey.NewAttestor(ca, caKey, "shop", now, 0)
	if err != nil {
		return nil, err
	}
	if err := devkey.WriteAttestor(filepath.Join(dir, DeviceDir), dev); err != nil {
		return nil, err
	}
	a.device = &client.DevAttestor{Device: dev.Device, Chain: dev.Chain}
	key, err := token.GenerateKey("EdDSA")
	if err != nil {
		return nil, err
	}
	priv, err := key.PrivatePEM()
	if err != nil {
		return nil, err
	}
	for name, b := range map[string][]byte{
		caFile:      pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Raw}),
		signingFile: priv,
		AdminToken:  []byte(a.adminToken + "\n"),
	} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// Vars are the config variables of demo.yaml it fills in.
func (a *Attestation) Vars() map[string]string {
	return map[string]string{
		"DEMO_DEV_CA":     filepath.Join(a.dir, caFile),
		"DEMO_ATTEST_KEY": filepath.Join(a.dir, signingFile),
		"ADMIN_TOKEN":     a.adminToken,
	}
}

// Prepare runs once the gateway serves at gw (scheme://host:port), with
// its operator API at admin: it attests through the gateway as the apps
// would, revokes one install and blocks BlockedVersion through the
// operator API, mints an expired token with the gateway's signing key
// (issuer is attestation.issuer), and writes the exchange request the
// tour replays.
func (a *Attestation) Prepare(ctx context.Context, gw, admin, issuer string) (AppTokens, error) {
	var t AppTokens
	attest := func(app, version string, dev *client.DevAttestor) (*client.Token, error) {
		tr := &client.Transport{Gateway: gw, App: app, AppVersion: version, Attestor: dev, Key: dev.Device}
		return tr.Token(ctx)
	}
	valid, err := attest("shop", AppVersion, a.device)
	if err != nil {
		return t, err
	}
	t.Valid = valid.Value
	old, err := attest("shop", BlockedVersion, a.device)
	if err != nil {
		return t, err
	}
	t.OldVersion = old.Value
	if err := a.operator(ctx, admin, "/v1/apps/shop/versions/"+BlockedVersion+"/block"); err != nil {
		return t, err
	}
	for _, x := range []struct {
		app  string
		into *string
	}{{"shop", &t.Revoked}, {"kiosk", &t.Kiosk}} {
		dev, err := a.newDevice(x.app)
		if err != nil {
			return t, err
		}
		tok, err := attest(x.app, AppVersion, dev)
		if err != nil {
			return t, err
		}
		*x.into = tok.Value
		if x.into == &t.Revoked {
			if err := a.operator(ctx, admin, "/v1/apps/shop/devices/"+url.PathEscape(tok.InstallID)+"/revoke"); err != nil {
				return t, err
			}
		}
	}
	if t.Expired, err = a.expired(valid.Value, issuer); err != nil {
		return t, err
	}
	return t, a.writeExchange(ctx, gw)
}

func (a *Attestation) newDevice(app string) (*client.DevAttestor, error) {
	d, err := devkey.NewAttestor(a.ca, a.caKey, app, time.Now(), 0)
	if err != nil {
		return nil, err
	}
	return &client.DevAttestor{Device: d.Device, Chain: d.Chain}, nil
}

// expired re-issues a token's claims with the gateway's signing key, as
// issued two hours ago for an hour.
func (a *Attestation) expired(valid, issuer string) (string, error) {
	parts := strings.Split(valid, ".")
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return "", err
	}
	var c service.Claims
	if err := json.Unmarshal(payload, &c); err != nil {
		return "", err
	}
	iss, err := service.LoadIssuer(issuer, []string{filepath.Join(a.dir, signingFile)})
	if err != nil {
		return "", err
	}
	return iss.Issue(c, time.Now().Add(-2*time.Hour), time.Hour)
}

// writeExchange fetches a challenge and writes the development exchange
// request of a new device of app shop, which the tour sends twice.
func (a *Attestation) writeExchange(ctx context.Context, gw string) error {
	dev, err := a.newDevice("shop")
	if err != nil {
		return err
	}
	var ch struct {
		Challenge string `json:"challenge"`
	}
	if err := postJSON(ctx, gw+"/v1/attest/challenge", map[string]string{"app": "shop"}, &ch); err != nil {
		return err
	}
	jkt, err := token.Thumbprint(dev.Device.Public())
	if err != nil {
		return err
	}
	k, err := token.NewKey(dev.Device.Public(), "", "")
	if err != nil {
		return err
	}
	jwk, err := k.PublicJWK()
	if err != nil {
		return err
	}
	cd := client.ClientData(ch.Challenge, jkt)
	hash := sha256.Sum256(cd)
	ev, err := dev.Attest(ctx, hash[:])
	if err != nil {
		return err
	}
	req := map[string]any{
		"app": "shop", "client_data": base64.RawURLEncoding.EncodeToString(cd), "signing_key": json.RawMessage(jwk),
		"app_version": AppVersion, "certificate_chain": ev.CertificateChain, "signature": ev.Signature,
	}
	b, err := json.MarshalIndent(req, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(a.dir, ExchangeFile), append(b, '\n'), 0o600)
}

// operator makes a change through the operator API.
func (a *Attestation) operator(ctx context.Context, admin, path string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, admin+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+a.adminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("demo: POST %s: %s", path, resp.Status)
	}
	return nil
}

func postJSON(ctx context.Context, u string, body, out any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("demo: POST %s: %s", u, resp.Status)
	}
	return json.Unmarshal(answer, out)
}
