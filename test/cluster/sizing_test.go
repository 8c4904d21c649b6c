package cluster

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/drawbridge-gw/drawbridge/internal/attest"
	"github.com/drawbridge-gw/drawbridge/internal/attest/androidkey"
	"github.com/drawbridge-gw/drawbridge/internal/attest/appattest"
	"github.com/drawbridge-gw/drawbridge/internal/attest/devkey"
	"github.com/drawbridge-gw/drawbridge/internal/attest/service"
	"github.com/drawbridge-gw/drawbridge/internal/config"
	"github.com/drawbridge-gw/drawbridge/internal/gateway"
	"github.com/drawbridge-gw/drawbridge/internal/store"
	"github.com/drawbridge-gw/drawbridge/internal/store/memory"
	"github.com/drawbridge-gw/drawbridge/internal/store/postgres"
	"github.com/drawbridge-gw/drawbridge/internal/store/redis"
	"github.com/drawbridge-gw/drawbridge/internal/testenv"
)

// The sizing measurements of docs/operations.md. They take a minute or
// more, so they run only when asked:
//
//	DRAWBRIDGE_SIZING=1 go test ./test/cluster -run Sizing -v -timeout 30m
//
// DRAWBRIDGE_SIZING_KEYS (default 100000) is the number of Redis keys of
// each kind, DRAWBRIDGE_SIZING_DEVICES (default 100000) the number of
// device rows per platform.

// sizing skips the test unless DRAWBRIDGE_SIZING=1, and returns the
// count the variable name holds (or def).
func sizing(t *testing.T, name string, def int) int {
	t.Helper()
	if os.Getenv("DRAWBRIDGE_SIZING") != "1" {
		t.Skip("set DRAWBRIDGE_SIZING=1 to run the sizing measurements of docs/operations.md")
	}
	if v := os.Getenv(name); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			t.Fatalf("%s=%q: want a positive number", name, v)
		}
		return n
	}
	return def
}

// sizingYAML: one route per kind of hot key, with the key formats and
// values the gateway really writes. The rate limit keeps its buckets for
// an hour (one request each), so that none expires while it is measured;
// a bucket's size does not depend on its limit.
func sizingYAML(f *fixtures) string {
	return `
listen: 127.0.0.1:0
upstreams:
  app:
    url: ${UPSTREAM}
apps:
  shop:
    dev: {ca_files: ["` + f.caFile + `"]}
    environments: [development]
attestation:
  issuer: ` + publicOrigin + `
  signing_keys: ["` + f.signingKey + `"]
log:
  decisions: false
routes:
  - name: api
    match: {path_prefix: /api/}
    upstream: app
    policies:
      - ratelimit:
          limits: [{name: per-ip, key: ip, rate: 1, per: 1h, burst: 1}]
  - name: signed
    match: {path_prefix: /signed/}
    upstream: app
    policies:
      - attestation: {apps: [shop]}
      - signature:
          attested: true
          origin: ` + publicOrigin + `
          required: ['@method', '@authority', '@path', attestation-token]
  - name: dpop
    match: {path_prefix: /dpop/}
    upstream: app
    policies:
      - attestation: {apps: [shop]}
      - dpop: {origin: ` + publicOrigin + `}
`
}

// TestSizingRedis measures the memory each kind of hot key takes in
// Redis: a rate-limit bucket, an attestation challenge, a signature nonce
// and a DPoP jti, each made by real requests through a gateway (in this
// process) whose hot store is a fresh redis-server. For each kind: INFO
// memory's used_memory before and after N keys (what the server really
// spends, its hash tables and expiry index included) and MEMORY USAGE of
// 1,000 of the keys (the key and value alone).
func TestSizingRedis(t *testing.T) {
	n := sizing(t, "DRAWBRIDGE_SIZING_KEYS", 100_000)
	srv := testenv.Redis(t)
	ctx := context.Background()
	hot, err := redis.Open(ctx, redis.Options{URL: srv.URL()})
	if err != nil {
		t.Fatal(err)
	}
	f := newFixtures(t)
	up := newUpstream(t)
	cfg, err := config.Parse("sizing.yaml", []byte(sizingYAML(f)), config.Source{LookupEnv: func(k string) (string, bool) {
		return map[string]string{"UPSTREAM": up.URL}[k], k == "UPSTREAM"
	}})
	if err != nil {
		t.Fatal(err)
	}
	gw := gateway.New(gateway.Options{Hot: hot, Durable: memory.NewDurable()})
	t.Cleanup(func() { gw.Close(); hot.Close() })
	if err := gw.Load(cfg); err != nil {
		t.Fatal(err)
	}
	serve := func(method, path, remote string, h map[string]string, body []byte) *httptest.ResponseRecorder {
		var r *http.Request
		if body != nil {
			r = httptest.NewRequest(method, path, strings.NewReader(string(body)))
			r.Header.Set("Content-Type", "application/json")
		} else {
			r = httptest.NewRequest(method, path, nil)
		}
		r.RemoteAddr = remote
		for k, v := range h {
			r.Header.Set(k, v)
		}
		w := httptest.NewRecorder()
		gw.ServeHTTP(w, r)
		return w
	}
	// One attested device, whose signatures and DPoP proofs make nonces
	// and jti.
	d := f.newDevice(t, "shop")
	ch := serve(http.MethodPost, "/v1/attest/challenge", "127.0.0.1:1", nil, []byte(`{"app":"shop"}`))
	var c struct{ Challenge string }
	_ = json.Unmarshal(ch.Body.Bytes(), &c)
	cd := service.FormatClientData(c.Challenge, d.key.JKT)
	sum := sha256.Sum256(cd)
	ev, _ := d.att.Attest(sum[:])
	var body map[string]any
	b, _ := json.Marshal(ev)
	_ = json.Unmarshal(b, &body)
	body["app"], body["client_data"], body["signing_key"], body["app_version"] = "shop", base64.RawURLEncoding.EncodeToString(cd), d.key.JWK, "1.0.0"
	b, _ = json.Marshal(body)
	w := serve(http.MethodPost, "/v1/attest/dev", "127.0.0.1:1", nil, b)
	var tok struct{ Token string }
	if err := json.Unmarshal(w.Body.Bytes(), &tok); err != nil || tok.Token == "" {
		t.Fatalf("attestation: %d %s", w.Code, w.Body)
	}
	d.token = tok.Token

	kinds := []struct {
		name, ttl string
		send      func(i int) *httptest.ResponseRecorder
	}{
		{"rate-limit bucket (one limit keyed by ip)", "until the bucket's TAT: at most burst × per/rate after the client's last request", func(i int) *httptest.ResponseRecorder {
			return serve(http.MethodGet, "/api/orders", fmt.Sprintf("10.%d.%d.%d:4000", i>>16&255, i>>8&255, i&255), nil, nil)
		}},
		{"attestation challenge", "attestation.challenge_ttl (2m), or until used", func(int) *httptest.ResponseRecorder {
			return serve(http.MethodPost, "/v1/attest/challenge", "127.0.0.1:1", nil, []byte(`{"app":"shop"}`))
		}},
		{"signature nonce (RFC 9421)", "until the signature expires: created + max_age (5m)", func(int) *httptest.ResponseRecorder {
			h, err := d.signed(http.MethodGet, "/signed/orders")
			if err != nil {
				t.Error(err)
			}
			return serve(http.MethodGet, "/signed/orders", "127.0.0.1:1", h, nil)
		}},
		{"DPoP jti", "until the proof expires: iat + max_age (60s) + 1s", func(int) *httptest.ResponseRecorder {
			return serve(http.MethodGet, "/dpop/orders", "127.0.0.1:1", map[string]string{
				"Attestation-Token": d.token, "DPoP": d.key.Proof(http.MethodGet, publicOrigin+"/dpop/orders")}, nil)
		}},
	}
	var report []string
	for _, k := range kinds {
		redisDo(t, srv.Addr, "FLUSHALL")
		before := usedMemory(t, srv.Addr)
		var next atomic.Int64
		var wg sync.WaitGroup
		start := time.Now()
		for range 8 {
			wg.Go(func() {
				for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
					if w := k.send(i); w.Code != http.StatusOK {
						t.Errorf("%s: request %d: %d %s", k.name, i, w.Code, w.Body)
						return
					}
				}
			})
		}
		wg.Wait()
		took := time.Since(start)
		after := usedMemory(t, srv.Addr)
		keys, _ := strconv.Atoi(redisDo(t, srv.Addr, "DBSIZE"))
		if keys != n {
			t.Errorf("%s: %d keys after %d requests", k.name, keys, n)
		}
		var usage, nameLen, samples int
		for range 1000 {
			key := redisDo(t, srv.Addr, "RANDOMKEY")
			u, _ := strconv.Atoi(redisDo(t, srv.Addr, "MEMORY", "USAGE", key, "SAMPLES", "0"))
			usage += u
			nameLen += len(key)
			samples++
		}
		sample := redisDo(t, srv.Addr, "RANDOMKEY")
		line := fmt.Sprintf("%-42s %7.1f B/key (used_memory: %d keys, %d → %d bytes); MEMORY USAGE %.1f B; key %.0f bytes, e.g. %q = %q, PTTL %s ms; TTL %s; %d requests in %v",
			k.name, float64(after-before)/float64(n), keys, before, after, float64(usage)/float64(samples), float64(nameLen)/float64(samples),
			sample, redisDo(t, srv.Addr, "GET", sample), redisDo(t, srv.Addr, "PTTL", sample), k.ttl, n, took.Round(time.Millisecond))
		t.Log(line)
		report = append(report, line)
	}
	t.Logf("Redis %s, %d keys of each kind:\n%s", serverVersion(t, srv.Addr), n, strings.Join(report, "\n"))
}

func redisDo(t *testing.T, addr string, args ...string) string {
	t.Helper()
	out, err := testenv.RedisDo(addr, args...)
	if err != nil {
		t.Fatalf("%v: %v", args, err)
	}
	return out
}

// usedMemory is INFO memory's used_memory, after the allocator settled.
func usedMemory(t *testing.T, addr string) int64 {
	t.Helper()
	info := redisDo(t, addr, "INFO", "memory")
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "used_memory:"); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	t.Fatal("no used_memory in INFO memory")
	return 0
}

func serverVersion(t *testing.T, addr string) string {
	for _, line := range strings.Split(redisDo(t, addr, "INFO", "server"), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "redis_version:"); ok {
			return v
		}
	}
	return "?"
}

// TestSizingPostgres measures a device row in PostgreSQL, per platform:
// N devices registered through the store (the row the attestation
// service writes: facts as the verifier found them, from real evidence),
// then pg_total_relation_size (heap, TOAST and indexes) per device after
// VACUUM. And what each write costs: WAL bytes per first attestation
// (RegisterDevice) and per App Attest assertion (AdvanceCounter).
func TestSizingPostgres(t *testing.T) {
	n := sizing(t, "DRAWBRIDGE_SIZING_DEVICES", 100_000)
	ctx := context.Background()
	dsn := testenv.Postgres(t)
	d, err := postgres.Open(ctx, postgres.Options{DSN: dsn})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(ctx) })
	var version string
	_ = conn.QueryRow(ctx, "SHOW server_version").Scan(&version)

	var report []string
	for _, p := range devicePlatforms(t) {
		if _, err := conn.Exec(ctx, "TRUNCATE drawbridge.devices"); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		var next atomic.Int64
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
					dev := p.device
					sum := sha256.Sum256(fmt.Appendf(nil, "%s-%d", p.name, i))
					dev.KeyID = base64.RawURLEncoding.EncodeToString(sum[:]) // 43 characters, as install ids are
					dev.FirstSeen, dev.LastSeen = time.Now(), time.Now()
					if err := d.RegisterDevice(ctx, dev); err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		took := time.Since(start)
		if _, err := conn.Exec(ctx, "VACUUM ANALYZE drawbridge.devices"); err != nil {
			t.Fatal(err)
		}
		var total, heap, idx, rows int64
		if err := conn.QueryRow(ctx, `SELECT pg_total_relation_size('drawbridge.devices'), pg_relation_size('drawbridge.devices'),
			pg_indexes_size('drawbridge.devices'), (SELECT count(*) FROM drawbridge.devices)`).Scan(&total, &heap, &idx, &rows); err != nil {
			t.Fatal(err)
		}
		line := fmt.Sprintf("%-8s %6.0f B/device (heap %.0f, indexes %.0f, TOAST %.0f); facts %d B of JSON, public key %d B; %d rows registered in %v (%.0f/s, 8 connections)",
			p.name, float64(total)/float64(rows), float64(heap)/float64(rows), float64(idx)/float64(rows), float64(total-heap-idx)/float64(rows),
			len(p.device.Facts), len(p.device.PublicKey), rows, took.Round(time.Millisecond), float64(rows)/took.Seconds())
		t.Log(line)
		report = append(report, line)
	}

	// WAL per write, one at a time on the machine's server (its default
	// settings), right after a checkpoint into a fresh table: no
	// full-page images (after each checkpoint, the first change to a page
	// also logs the page, up to 8 KiB).
	const ops = 2000
	wal := func(op func(i int) error) float64 {
		var before, after string
		_ = conn.QueryRow(ctx, "SELECT pg_current_wal_insert_lsn()::text").Scan(&before)
		for i := range ops {
			if err := op(i); err != nil {
				t.Fatal(err)
			}
		}
		var diff float64
		_ = conn.QueryRow(ctx, "SELECT pg_current_wal_insert_lsn()::text").Scan(&after)
		_ = conn.QueryRow(ctx, "SELECT pg_wal_lsn_diff($1::pg_lsn, $2::pg_lsn)", after, before).Scan(&diff)
		return diff / ops
	}
	var asserted devicePlatform
	for _, p := range devicePlatforms(t) {
		if _, err := conn.Exec(ctx, "TRUNCATE drawbridge.devices"); err != nil {
			t.Fatal(err)
		}
		if _, err := conn.Exec(ctx, "CHECKPOINT"); err != nil {
			t.Fatal(err)
		}
		dev := p.device
		reg := wal(func(i int) error {
			dev.KeyID = fmt.Sprintf("wal-%039d", i)
			return d.RegisterDevice(ctx, dev)
		})
		again := wal(func(i int) error {
			dev.KeyID = fmt.Sprintf("wal-%039d", i)
			if err := d.RegisterDevice(ctx, dev); !errors.Is(err, store.ErrExists) {
				return fmt.Errorf("registering a known key: %v, want ErrExists", err)
			}
			_, err := d.Device(ctx, dev.App, dev.KeyID)
			return err
		})
		report = append(report, fmt.Sprintf("WAL per first attestation (one INSERT), %-8s %6.0f B; per re-attestation of a known key (INSERT … ON CONFLICT DO NOTHING, SELECT) %.0f B", p.name+":", reg, again))
		asserted = p // App Attest's when the samples are there: the last
	}
	adv := wal(func(i int) error {
		return d.AdvanceCounter(ctx, asserted.device.App, fmt.Sprintf("wal-%039d", i), 7, time.Now())
	})
	// The pool's idle connections report their statistics within 10s.
	time.Sleep(11 * time.Second)
	var upd, hot int64
	_ = conn.QueryRow(ctx, `SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables WHERE relname = 'devices'`).Scan(&upd, &hot)
	report = append(report, fmt.Sprintf("WAL per App Attest assertion (one UPDATE of counter and last_seen), %s rows: %.0f B; %d of %d updates HOT (no index write)",
		asserted.name, adv, hot, upd))
	t.Logf("PostgreSQL %s, %d devices per platform:\n%s", version, n, strings.Join(report, "\n"))
}

// devicePlatform is the device row one platform's attestation writes.
type devicePlatform struct {
	name   string
	device store.Device
}

// devicePlatforms builds each platform's row as the attestation service
// does (service.register): the facts its verifier found in real evidence.
// App Attest and Android rows come from the captured samples of
// DRAWBRIDGE_VECTORS (or ../shared/vectors); without them only the
// development row is measured.
func devicePlatforms(t *testing.T) []devicePlatform {
	t.Helper()
	row := func(name string, f attest.Facts, counter uint64) devicePlatform {
		facts, err := json.Marshal(f)
		if err != nil {
			t.Fatal(err)
		}
		return devicePlatform{name: name, device: store.Device{
			App: "shop", Platform: f.Platform, PublicKey: f.PublicKey, Counter: counter,
			BoundKey: strings.Repeat("k", 43), Facts: facts,
		}}
	}
	// Development: a device key certified by a development CA.
	fx := newFixtures(t)
	dev := fx.newDevice(t, "shop")
	cd := service.FormatClientData(strings.Repeat("c", 43), dev.key.JKT)
	sum := sha256.Sum256(cd)
	ev, err := dev.att.Attest(sum[:])
	if err != nil {
		t.Fatal(err)
	}
	res := devkey.Verify(ev, devkey.Expect{ClientDataHash: sum[:], BoundKey: dev.key.JKT},
		devkey.Policy{App: "shop", CAs: []*x509.Certificate{fx.ca}, AllowDevelopment: true}, time.Now())
	if !res.Valid {
		t.Fatalf("development evidence: %v", res.Reasons)
	}
	out := []devicePlatform{row("dev", res.Facts, 0)}

	dir := vectorsDir()
	if dir == "" {
		t.Log("no attestation vectors (DRAWBRIDGE_VECTORS): App Attest and Android rows not measured")
		return out
	}
	// App Attest: a real attestation, with Apple's receipt, which the
	// facts keep.
	var a struct {
		Attestation    string    `json:"attestation_b64"`
		ClientDataHash string    `json:"client_data_hash_b64"`
		KeyID          string    `json:"key_id_b64"`
		TeamID         string    `json:"team_id"`
		BundleID       string    `json:"bundle_id"`
		Environment    string    `json:"environment"`
		VerifiedAt     time.Time `json:"verified_at_time"`
	}
	readJSON(t, filepath.Join(dir, "attestation/appattest/warden-iphone15-ios17-attestation.json"), &a)
	ares := appattest.VerifyAttestation(b64(t, a.Attestation), appattest.Expect{
		TeamID: a.TeamID, BundleID: a.BundleID, Environments: []string{a.Environment},
		ClientDataHash: b64(t, a.ClientDataHash), KeyID: b64(t, a.KeyID),
	}, a.VerifiedAt)
	if !ares.Valid {
		t.Fatalf("App Attest sample: %v", ares.Reasons)
	}
	apple := row("apple", ares.Facts, 0)
	// Android: a real TEE key attestation chain. Its package is not ours,
	// which changes nothing to the size of what is stored.
	var k struct {
		Chain      []string  `json:"chain_pem"`
		Challenge  string    `json:"challenge_b64"`
		VerifiedAt time.Time `json:"verified_at_time"`
	}
	readJSON(t, filepath.Join(dir, "attestation/android-key/google-aka-ec-tee.json"), &k)
	var chain [][]byte
	for _, c := range k.Chain {
		blk, _ := pem.Decode([]byte(c))
		if blk == nil {
			t.Fatal("android sample: not PEM")
		}
		chain = append(chain, blk.Bytes)
	}
	kres := androidkey.Verify(chain, b64(t, k.Challenge), androidkey.Policy{
		Apps: []androidkey.App{{Package: "com.example.shop", SigningCertDigests: [][]byte{make([]byte, 32)}}},
	}, k.VerifiedAt)
	if len(kres.Facts.PublicKey) == 0 || kres.Facts.SecurityLevel == "" {
		t.Fatalf("android sample: facts not read: %v", kres.Reasons)
	}
	// App Attest last: its rows are the ones assertions update.
	return append(out, row("android", kres.Facts, 0), apple)
}

// vectorsDir is DRAWBRIDGE_VECTORS, or ../shared/vectors beside the
// module, or "".
func vectorsDir() string {
	for _, d := range []string{os.Getenv("DRAWBRIDGE_VECTORS"), "../../../shared/vectors"} {
		if d == "" {
			continue
		}
		if _, err := os.Stat(filepath.Join(d, "attestation")); err == nil {
			return d
		}
	}
	return ""
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func b64(t *testing.T, s string) []byte {
	t.Helper()
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b
		}
	}
	t.Fatalf("not base64: %.20q", s)
	return nil
}
