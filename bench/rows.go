package main

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
)

// baseRow is the row every ratio is computed against unless a row names
// another Base. It is always measured.
const baseRow = "bare"

// Row is one line of the report: one proxy, one kind of request.
//
// To add a benchmark, add an entry to rows.
type Row struct {
	// Name identifies the row in -rows, -check and the report.
	Name string
	// Config is the drawbridge config file, relative to the module root.
	// Empty: the row measures the bare httputil.ReverseProxy instead.
	Config string
	// Base names the row whose figures, from the same run, this row's
	// ratios are computed against. Empty: "bare". A row that sends POST
	// bodies may want a bare row of its own that sends the same bodies.
	Base string
	// Method is the request method. Empty: GET.
	Method string
	// Path is the request target: path and optional query.
	Path string
	// Headers are sent with every request, in this order.
	Headers []Header
	// Body is sent with every request; empty sends none.
	Body string
	// Prepare, if not nil, runs before the proxy starts; the environment
	// variables it returns (NAME=value) are set for the proxy. Rows whose
	// config needs a server of the harness up when it loads (a key set
	// URL) start it here.
	Prepare func(ctx context.Context) ([]string, error)
	// PerRequest, if set, names headers made afresh for every request
	// (bench/proofs.go: "signature-hmac", "signature-ed25519", "dpop"): a
	// signature's nonce and created, a DPoP proof's jti and iat, which the
	// gateway accepts once. Such rows always run on the Go load generator,
	// since wrk repeats fixed headers.
	PerRequest string
	// GoLoad runs the row on the Go load generator even when wrk is
	// chosen: the base of PerRequest rows, so that their ratios compare
	// one generator with itself.
	GoLoad bool
	// Setup, if not nil, runs once the proxy is ready and before the
	// row's first request; the headers it returns are sent as well (they
	// replace static Headers of the same name). Rows that need tokens mint
	// them here, fresh for each measurement. Its values are not written to
	// bench/out.
	Setup func(ctx context.Context, t Target) ([]Header, error)
}

// Header is one request header field.
type Header struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Target is what a Setup hook may use: the proxy under test and where the
// module lives.
type Target struct {
	// URL is the proxy's base URL, http://127.0.0.1:PORT.
	URL string
	// AdminURL is drawbridge's admin listener; empty for the bare proxy.
	AdminURL string
	// Root is the module root (keys and fixtures live below it).
	Root string
	// Config is the absolute path of the row's config; empty for bare.
	Config string
	// Client is an HTTP client that does not use $HTTP_PROXY.
	Client *http.Client
}

// browser is what a browser's fetch() of a JSON API sends.
var browser = []Header{
	{"User-Agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36"},
	{"Accept", "application/json"},
}

// rows returns every row, in report order. The first must be baseRow.
func rows() []Row {
	return []Row{
		{Name: baseRow, Path: "/api/products", Headers: browser},
		{Name: "basic", Config: "examples/basic.yaml", Path: "/api/products", Headers: browser},
		// jwt-*: a bearer token on every request (bench/jwt.go). Cold rows
		// turn the verified-token cache off, since wrk repeats one token.
		{Name: "jwt-es256-cold", Config: "bench/configs/jwt-cold.yaml", Path: "/api/products", Headers: browser, Setup: jwtSetup("ES256")},
		{Name: "jwt-es256-hot", Config: "bench/configs/jwt-hot.yaml", Path: "/api/products", Headers: browser, Setup: jwtSetup("ES256")},
		{Name: "jwt-eddsa-cold", Config: "bench/configs/jwt-cold.yaml", Path: "/api/products", Headers: browser, Setup: jwtSetup("EdDSA")},
		{Name: "jwt-eddsa-hot", Config: "bench/configs/jwt-hot.yaml", Path: "/api/products", Headers: browser, Setup: jwtSetup("EdDSA")},
		// ratelimit-*: every request counted against two limits, never
		// refused (bench/configs/ratelimit-*.yaml); the redis row's
		// config names ${REDIS_URL}, so the harness starts a redis-server
		// for it (bench/redis.go).
		{Name: "ratelimit-memory", Config: "bench/configs/ratelimit-memory.yaml", Path: "/api/products", Headers: browser},
		{Name: "ratelimit-redis", Config: "bench/configs/ratelimit-redis.yaml", Path: "/api/products", Headers: browser},
		// attestation: an attestation token checked on every request
		// (bench/attest.go), as apps send it.
		{Name: "attestation", Config: "bench/configs/attestation.yaml", Path: "/api/products", Headers: browser,
			Prepare: attestPrepare, Setup: attestSetup},
		// signature-*, dpop: a new HTTP message signature (RFC 9421) or
		// DPoP proof (RFC 9449) on every request, nonce or jti claimed
		// once (bench/proofs.go). The Go load generator signs each, so
		// they are measured against the bare proxy under that generator.
		{Name: "bare-go", Path: "/api/products", Headers: browser, GoLoad: true},
		{Name: "signature-hmac", Config: "bench/configs/signature.yaml", Base: "bare-go", Path: "/api/products", Headers: browser,
			Prepare: signaturePrepare, Setup: signatureSetup("signature-hmac"), PerRequest: "signature-hmac"},
		{Name: "signature-ed25519", Config: "bench/configs/signature.yaml", Base: "bare-go", Path: "/api/products", Headers: browser,
			Prepare: signaturePrepare, Setup: signatureSetup("signature-ed25519"), PerRequest: "signature-ed25519"},
		{Name: "dpop", Config: "bench/configs/dpop.yaml", Base: "bare-go", Path: "/api/products", Headers: browser,
			Prepare: dpopPrepare, Setup: dpopSetup, PerRequest: "dpop"},
	}
}

func (r Row) method() string {
	if r.Method == "" {
		return http.MethodGet
	}
	return r.Method
}

func (r Row) base() string {
	if r.Base == "" {
		return baseRow
	}
	return r.Base
}

// selectRows returns the rows named by spec, a comma-separated list whose
// items are row names or, when no row has that exact name, regular
// expressions matched against names. Empty spec selects every row. The
// rows that selected rows are measured against are always added. Report
// order is kept.
func selectRows(all []Row, spec string) ([]Row, error) {
	byName := make(map[string]Row, len(all))
	for _, r := range all {
		if _, dup := byName[r.Name]; dup {
			return nil, fmt.Errorf("rows: duplicate row %q", r.Name)
		}
		byName[r.Name] = r
	}
	want := make(map[string]bool)
	if strings.TrimSpace(spec) == "" {
		for _, r := range all {
			want[r.Name] = true
		}
	}
	for _, item := range strings.Split(spec, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		if _, ok := byName[item]; ok {
			want[item] = true
			continue
		}
		re, err := regexp.Compile(item)
		if err != nil {
			return nil, fmt.Errorf("rows: %q is neither a row name nor a valid regexp: %v", item, err)
		}
		n := 0
		for _, r := range all {
			if re.MatchString(r.Name) {
				want[r.Name] = true
				n++
			}
		}
		if n == 0 {
			return nil, fmt.Errorf("rows: %q matches no row (rows: %s)", item, strings.Join(names(all), ", "))
		}
	}
	// Add bases, and their bases, until nothing changes.
	for {
		added := false
		for _, r := range all {
			if !want[r.Name] {
				continue
			}
			b := r.base()
			if _, ok := byName[b]; !ok {
				return nil, fmt.Errorf("rows: row %q is measured against %q, which is not a row", r.Name, b)
			}
			if !want[b] {
				want[b], added = true, true
			}
		}
		if !added {
			break
		}
	}
	var sel []Row
	for _, r := range all {
		if want[r.Name] {
			sel = append(sel, r)
		}
	}
	return sel, nil
}

func names(rs []Row) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Name
	}
	return out
}

// rotate returns rs rotated left by k: run k of the benchmark measures
// rows in this order, so that no row is always measured first (on a warm
// machine) or last (after minutes of load).
func rotate(rs []Row, k int) []Row {
	if len(rs) == 0 {
		return nil
	}
	k %= len(rs)
	out := append([]Row(nil), rs[k:]...)
	return append(out, rs[:k]...)
}
