package gateway

import (
	"fmt"
	"github.com/drawbridge-gw/drawbridge/internal/attest/service"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/drawbridge-gw/drawbridge/internal/config"
	"github.com/drawbridge-gw/drawbridge/internal/token"
)

// Remote key sets outlive config loads. They are kept by the gateway in a
// registry keyed by source (URL or discovery issuer, and refresh bounds),
// like upstream transports: a reload that still names a source keeps its
// warm keys and its one background refresher, rather than fetching again
// and leaving the old refresher running. After a config is put in force,
// sources it no longer names are closed (their goroutines end); requests
// still in flight on the old config keep the last keys those sources had.
// The alternative, closing each old config's resources, would refetch
// every key set on every reload and race requests in flight.

// sourceKey identifies a remote key set.
type sourceKey struct {
	url, issuer              string
	min, max, unknownKIDWait time.Duration
}

// keySources is the gateway's registry of remote key sets.
type keySources struct {
	mu sync.Mutex
	m  map[sourceKey]*token.RemoteKeySet
}

func (k *keySources) get(key sourceKey, log *slog.Logger) (*token.RemoteKeySet, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if s, ok := k.m[key]; ok {
		return s, nil
	}
	s, err := token.NewRemoteKeySet(token.RemoteOptions{
		URL: key.url, Issuer: key.issuer,
		MinRefresh: key.min, MaxRefresh: key.max, UnknownKIDInterval: key.unknownKIDWait,
		Logger: log,
	})
	if err != nil {
		return nil, err
	}
	if k.m == nil {
		k.m = map[sourceKey]*token.RemoteKeySet{}
	}
	k.m[key] = s
	return s, nil
}

// retain starts the sources in keep and closes and forgets the others.
func (k *keySources) retain(keep map[sourceKey]bool) {
	k.mu.Lock()
	var closing []*token.RemoteKeySet
	for key, s := range k.m {
		if keep[key] {
			s.Start()
			continue
		}
		closing = append(closing, s)
		delete(k.m, key)
	}
	k.mu.Unlock()
	for _, s := range closing {
		s.Close()
	}
}

// running returns the number of sources in the registry.
func (k *keySources) running() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.m)
}

// compileState is shared by the policies of one config load: each issuer
// is compiled once, whatever the number of routes naming it.
type compileState struct {
	g       *Gateway
	issuers map[string]*token.IssuerConfig
	used    map[sourceKey]bool
	// Attestation: the apps, the run-time controls and this process's
	// token issuer (nil when the service is off).
	apps         map[string]*service.App
	controls     *service.Controls
	attestIssuer *service.Issuer
}

// issuer compiles the named issuer: its key sources (a key file read now,
// remote sets from the registry) and checks.
func (st *compileState) issuer(name string, b *buildEnv, field string) (*token.IssuerConfig, []config.Problem) {
	if ic, ok := st.issuers[name]; ok {
		return ic, nil
	}
	c, ok := b.cfg.Issuers[name]
	if !ok {
		return nil, []config.Problem{b.problem(field, fmt.Sprintf("unknown issuer %q", name))}
	}
	at := "issuers." + name
	var problems []config.Problem
	ic := &token.IssuerConfig{
		Issuer: c.Issuer, Algorithms: c.Algorithms, Audiences: c.Audiences,
		Type: c.Type, MaxAge: c.MaxAge.D(), RequiredClaims: c.Require, AllowMissingExp: c.AllowMissingExp,
	}
	if c.Leeway != nil {
		ic.Leeway = c.Leeway.D()
	}
	for i, a := range c.Algorithms {
		if !slices.Contains(token.SignatureAlgorithms(), a) {
			problems = append(problems, config.Problem{Field: fmt.Sprintf("%s.algorithms[%d]", at, i), Msg: fmt.Sprintf("unknown algorithm %q (known: %s)", a, strings.Join(token.SignatureAlgorithms(), ", "))})
		}
	}
	if c.JWKSFile != "" {
		b, err := os.ReadFile(c.JWKSFile)
		var set *token.KeySet
		if err == nil {
			set, err = token.ParseKeys(b)
		}
		if err != nil {
			problems = append(problems, config.Problem{Field: at + ".jwks_file", Msg: err.Error()})
		} else {
			ic.Keys = append(ic.Keys, set)
		}
	}
	remote := func(key sourceKey, field string) {
		key.min, key.max, key.unknownKIDWait = c.Refresh.Min.D(), c.Refresh.Max.D(), c.Refresh.UnknownKIDInterval.D()
		s, err := st.g.keySources.get(key, st.g.log)
		if err != nil {
			problems = append(problems, config.Problem{Field: at + "." + field, Msg: err.Error()})
			return
		}
		st.used[key] = true
		ic.Keys = append(ic.Keys, s)
	}
	if c.JWKSURL != "" {
		remote(sourceKey{url: c.JWKSURL}, "jwks_url")
	}
	if c.Discovery {
		remote(sourceKey{issuer: c.Issuer}, "discovery")
	}
	st.issuers[name] = ic
	return ic, problems
}

// remoteKeys returns the shared remote key set at url, with the default
// refresh bounds.
func (st *compileState) remoteKeys(url string, b *buildEnv, field string) (token.KeySource, []config.Problem) {
	key := sourceKey{url: url, min: config.DefaultKeyRefreshMin, max: config.DefaultKeyRefreshMax, unknownKIDWait: config.DefaultUnknownKIDInterval}
	s, err := st.g.keySources.get(key, st.g.log)
	if err != nil {
		return nil, []config.Problem{b.problem(field, err.Error())}
	}
	st.used[key] = true
	return s, nil
}
