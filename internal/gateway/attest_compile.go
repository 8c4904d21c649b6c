package gateway

import (
	"context"
	"crypto/x509"
	"fmt"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/drawbridge-gw/drawbridge/internal/attest/androidkey"
	"github.com/drawbridge-gw/drawbridge/internal/attest/appattest"
	"github.com/drawbridge-gw/drawbridge/internal/attest/devkey"
	"github.com/drawbridge-gw/drawbridge/internal/attest/playintegrity"
	"github.com/drawbridge-gw/drawbridge/internal/attest/service"
	"github.com/drawbridge-gw/drawbridge/internal/config"
)

// attestState is the attestation state that lives as long as the process:
// the run-time controls cache (one poller per process) and the signing key
// generated when the config names none (so that tokens survive reloads).
type attestState struct {
	mu        sync.Mutex
	controls  *service.Controls
	generated *service.Issuer
}

// controls returns the process's controls cache, starting it on first use.
func (g *Gateway) controls() (*service.Controls, error) {
	g.attest.mu.Lock()
	defer g.attest.mu.Unlock()
	if g.attest.controls == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c, err := service.NewControls(ctx, g.durable, 0, g.log)
		if err != nil {
			return nil, err
		}
		g.attest.controls = c
	}
	return g.attest.controls, nil
}

func (g *Gateway) issuer(a config.Attestation) (*service.Issuer, error) {
	if len(a.SigningKeys) > 0 {
		return service.LoadIssuer(a.Issuer, a.SigningKeys)
	}
	g.attest.mu.Lock()
	defer g.attest.mu.Unlock()
	if g.attest.generated == nil || g.attest.generated.Name() != a.Issuer {
		iss, err := service.LoadIssuer(a.Issuer, nil)
		if err != nil {
			return nil, err
		}
		g.log.Warn("attestation: no signing_keys configured; signing with a key generated at start (single node only: replicas would not share it, and tokens do not survive a restart)")
		g.attest.generated = iss
	}
	return g.attest.generated, nil
}

// attestEndpoints are the compiled attestation endpoints of one config.
type attestEndpoints struct {
	prefix  string
	svc     *service.Service
	apps    map[string]*service.App // the service's apps (tests inject roots)
	steps   []step
	metrics *routeMetrics
}

// compileAttestation builds the apps, the service and its endpoints, and
// the state attestation policies share.
func (g *Gateway) compileAttestation(cfg *config.Config, st *compileState, c *compiled) []config.Problem {
	needed := cfg.Attestation.AttestationEnabled(cfg)
	for _, r := range cfg.Routes {
		for _, p := range r.Policies {
			if p.Attestation != nil {
				needed = true
			}
		}
	}
	if !needed {
		return nil
	}
	var problems []config.Problem
	controls, err := g.controls()
	if err != nil {
		return []config.Problem{{Field: "state.durable", Msg: "reading run-time controls: " + err.Error()}}
	}
	st.controls = controls
	st.apps = map[string]*service.App{}
	for name, a := range cfg.Apps {
		app, ps := compileApp(name, a)
		problems = append(problems, ps...)
		st.apps[name] = app
	}
	if !cfg.Attestation.AttestationEnabled(cfg) {
		return problems
	}
	iss, err := g.issuer(cfg.Attestation)
	if err != nil {
		return append(problems, config.Problem{Field: "attestation.signing_keys", Msg: err.Error()})
	}
	st.attestIssuer = iss
	svc, err := service.New(service.Options{
		Apps: st.apps, Issuer: iss, Hot: g.hot, Devices: g.durable, Controls: controls,
		ChallengeTTL: cfg.Attestation.ChallengeTTL.D(), Now: g.now,
	})
	if err != nil {
		return append(problems, config.Problem{Field: "attestation", Msg: err.Error()})
	}
	steps, ps := g.buildChain("attestation", cfg.Attestation.Policies, cfg, st)
	problems = append(problems, ps...)
	c.attest = &attestEndpoints{prefix: cfg.Attestation.Prefix, svc: svc, apps: st.apps, steps: steps, metrics: g.metrics.forRoute(attestRoute)}
	return problems
}

// attestRoute names the attestation endpoints in logs and metrics.
const attestRoute = "attestation"

func compileApp(name string, a config.App) (*service.App, []config.Problem) {
	p := "apps." + name
	var problems []config.Problem
	app := &service.App{
		ID: name, Environments: a.Environments, TokenTTL: a.TokenTTL.D(),
		MinVersion: a.MinVersion, Blocked: a.BlockedVersions,
	}
	if ap := a.Apple; ap != nil {
		app.Apple = &appattest.Expect{TeamID: ap.TeamID, BundleID: ap.BundleID}
	}
	if an := a.Android; an != nil {
		pol := androidkey.Policy{
			Apps:                []androidkey.App{{Package: an.Package, MinVersionCode: an.MinVersionCode}},
			AllowSoftware:       an.AllowSoftware,
			AllowUnlocked:       an.AllowUnlocked,
			AllowUnverifiedBoot: an.AllowUnverifiedBoot,
			MinOSPatchLevel:     an.MinOSPatchLevel,
		}
		for _, d := range an.SigningCertDigests {
			b, _ := config.ParseDigest(d) // validated
			pol.Apps[0].SigningCertDigests = append(pol.Apps[0].SigningCertDigests, b)
		}
		if an.RevocationList != "" {
			b, err := os.ReadFile(an.RevocationList)
			if err == nil {
				pol.Revoked, err = androidkey.ParseStatusList(b)
			}
			if err != nil {
				problems = append(problems, config.Problem{Field: p + ".android.revocation_list", Msg: err.Error()})
			}
		}
		if err := pol.Validate(); err != nil {
			problems = append(problems, config.Problem{Field: p + ".android", Msg: err.Error()})
		}
		app.Android = &pol
	}
	if pl := a.Play; pl != nil {
		app.Play, problems = compilePlay(p+".play", pl, problems)
	}
	if d := a.Dev; d != nil {
		pol := devkey.Policy{App: name, AllowDevelopment: slices.Contains(a.Environments, devkey.Environment)}
		for i, f := range d.CAFiles {
			b, err := os.ReadFile(f)
			var cas []*x509.Certificate
			if err == nil {
				cas, err = devkey.ParseCAs(b)
			}
			if err != nil {
				problems = append(problems, config.Problem{Field: fmt.Sprintf("%s.dev.ca_files[%d]", p, i), Msg: err.Error()})
			}
			pol.CAs = append(pol.CAs, cas...)
		}
		v, err := devkey.New(pol)
		if err != nil && len(problems) == 0 {
			problems = append(problems, config.Problem{Field: p + ".dev", Msg: err.Error()})
		}
		app.Dev = v
	}
	return app, problems
}

// compilePlay builds an app's Play Integrity verifier. Its problems never
// quote the keys.
func compilePlay(p string, pl *config.PlayApp, problems []config.Problem) (*playintegrity.Verifier, []config.Problem) {
	pol := playintegrity.Policy{
		Package: pl.Package, MinVersionCode: pl.MinVersionCode,
		DeviceIntegrity: pl.DeviceIntegrity, RequireLicensed: pl.RequireLicensed,
	}
	var err error
	if pol.DecryptionKey, err = playintegrity.ParseDecryptionKey(pl.DecryptionKey); err != nil {
		problems = append(problems, config.Problem{Field: p + ".decryption_key", Msg: "want the base64 AES-256 key from Play Console"})
	}
	if pol.VerificationKey, err = playintegrity.ParseVerificationKey(pl.VerificationKey); err != nil {
		problems = append(problems, config.Problem{Field: p + ".verification_key", Msg: "want the base64 DER EC P-256 public key from Play Console"})
	}
	for _, d := range pl.SigningCertDigests {
		b, _ := config.ParseDigest(d) // validated
		pol.SigningCertDigests = append(pol.SigningCertDigests, b)
	}
	if len(problems) > 0 {
		return nil, problems
	}
	v, err := playintegrity.New(pol)
	if err != nil {
		return nil, append(problems, config.Problem{Field: p, Msg: err.Error()})
	}
	return v, problems
}

// attestPaths are the service's paths below its prefix.
var attestPaths = []string{
	"/v1/attest/challenge", "/v1/attest/apple", "/v1/attest/apple-assertion",
	"/v1/attest/android", "/v1/attest/play", "/v1/attest/dev", "/.well-known/jwks.json",
}

// attestClashes refuses routes that would match an attestation endpoint:
// the endpoints are answered first, so such a route would silently lose
// them.
func (c *compiled) attestClashes() []config.Problem {
	if c.attest == nil {
		return nil
	}
	var problems []config.Problem
	for i, r := range c.router.routes {
		for _, p := range attestPaths {
			if r.matchPath(c.attest.prefix + p) {
				problems = append(problems, config.Problem{
					Field: fmt.Sprintf("routes[%d].match", i),
					Msg:   fmt.Sprintf("matches the attestation endpoint %s%s; narrow the route or set attestation.prefix", c.attest.prefix, p),
				})
				break
			}
		}
	}
	return problems
}
