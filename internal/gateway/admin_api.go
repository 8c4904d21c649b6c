package gateway

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/drawbridge-gw/drawbridge/internal/store"
)

// The operator API: the run-time controls of attestation (blocked app
// versions, revoked installs, token cut-offs), on the admin listener.
//
//	POST   /v1/apps/{app}/versions/{version}/block    block a version
//	DELETE /v1/apps/{app}/versions/{version}/block    unblock it
//	POST   /v1/apps/{app}/devices/{install}/revoke    revoke an install
//	POST   /v1/apps/{app}/cutoff  {"before": RFC 3339} refuse older tokens (no body: now)
//	DELETE /v1/apps/{app}/cutoff                      remove the cut-off
//	GET    /v1/controls                               every control in force
//	GET    /v1/apps/{app}/devices/{install}           one install's record
//
// Every change is written to the durable store, which every node polls
// (service.Controls, every 500ms): a change through any node applies on
// all of them within one poll interval. The node that made it applies it
// at once.
//
// Authentication: "Authorization: Bearer <admin.token>", compared in
// constant time (over SHA-256 digests, so that not even the length
// leaks). Changes always need it; without admin.token they are refused
// (403 admin.disabled), never open. Reads need it too whenever a token is
// configured (they list install ids and device records); without one,
// the operator API only reads, as admin.token documents. Answers are
// JSON; refusals are problem+json with a stable admin.* reason. Every
// change, accepted or refused, is logged without the token.

// adminReasons are the operator API's reasons and statuses.
var adminReasons = map[string]reasonInfo{
	"admin.unauthorized":       {401, "Send the operator token as Authorization: Bearer <token>."},
	"admin.disabled":           {403, "Run-time changes are disabled: admin.token is not configured."},
	"admin.bad_request":        {400, "The request is malformed."},
	"admin.unknown_app":        {404, "No such app in the config in force."},
	"admin.not_found":          {404, "No such record."},
	"admin.method_not_allowed": {405, "This method is not allowed here."},
	"admin.unavailable":        {503, "The state store is unavailable: retry later."},
}

// maxAdminBody bounds a request body (a cut-off time).
const maxAdminBody = 4 << 10

// operatorAPI serves the operator endpoints.
type operatorAPI struct {
	gw    *Gateway
	token [sha256.Size]byte // SHA-256 of admin.token
	open  bool              // no token configured: reads only
	log   *slog.Logger
}

// registerOperatorAPI adds the operator endpoints to mux. The token is
// read once, with the other listener settings.
func (s *Server) registerOperatorAPI(mux *http.ServeMux) {
	a := &operatorAPI{gw: s.gw, log: s.log, open: s.cfg.Admin.Token == ""}
	a.token = sha256.Sum256([]byte(s.cfg.Admin.Token))
	mux.HandleFunc("/v1/apps/{app}/versions/{version}/block", a.handle(map[string]adminFunc{
		http.MethodPost: a.blockVersion(true), http.MethodDelete: a.blockVersion(false),
	}))
	mux.HandleFunc("/v1/apps/{app}/devices/{install}/revoke", a.handle(map[string]adminFunc{http.MethodPost: a.revoke}))
	mux.HandleFunc("/v1/apps/{app}/cutoff", a.handle(map[string]adminFunc{http.MethodPost: a.cutoff, http.MethodDelete: a.removeCutoff}))
	mux.HandleFunc("/v1/controls", a.handle(map[string]adminFunc{http.MethodGet: a.controls}))
	mux.HandleFunc("/v1/apps/{app}/devices/{install}", a.handle(map[string]adminFunc{http.MethodGet: a.device}))
	mux.HandleFunc("/v1/", func(w http.ResponseWriter, _ *http.Request) { adminProblem(w, "admin.not_found") })
}

// adminFunc serves one operation and returns its answer, or the reason
// it is refused.
type adminFunc func(r *http.Request) (any, string, error)

// handle dispatches on the method, authenticates, runs f and renders.
func (a *operatorAPI) handle(methods map[string]adminFunc) http.HandlerFunc {
	var allow []string
	for m := range methods {
		allow = append(allow, m)
	}
	sort.Strings(allow)
	return func(w http.ResponseWriter, r *http.Request) {
		f, ok := methods[r.Method]
		if !ok {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			adminProblem(w, "admin.method_not_allowed")
			return
		}
		change := r.Method != http.MethodGet
		if reason := a.authorize(r, change); reason != "" {
			if reason == "admin.unauthorized" {
				w.Header().Set("WWW-Authenticate", `Bearer realm="drawbridge-admin"`)
			}
			a.audit(r, change, reason, nil)
			adminProblem(w, reason)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		body, reason, err := f(r.WithContext(ctx))
		a.audit(r, change, reason, err)
		if reason != "" {
			adminProblem(w, reason)
			return
		}
		if change {
			// This node applies the change at once; the others at their
			// next poll.
			a.gw.refreshControls(ctx)
		}
		b, _ := json.MarshalIndent(body, "", "  ")
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write(append(b, '\n'))
	}
}

// authorize returns the reason a request is refused, or "".
func (a *operatorAPI) authorize(r *http.Request, change bool) string {
	if a.open {
		if change {
			return "admin.disabled"
		}
		return ""
	}
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	sum := sha256.Sum256([]byte(got))
	if subtle.ConstantTimeCompare(sum[:], a.token[:]) != 1 || !ok {
		return "admin.unauthorized"
	}
	return ""
}

// audit logs an operator request: what was asked and the outcome.
func (a *operatorAPI) audit(r *http.Request, change bool, reason string, err error) {
	if !change && reason == "" {
		return
	}
	outcome := "ok"
	if reason != "" {
		outcome = reason
	}
	attrs := []any{"method", r.Method, "path", r.URL.EscapedPath(), "remote", r.RemoteAddr, "outcome", outcome}
	if err != nil {
		attrs = append(attrs, "error", err.Error())
	}
	a.log.Info("operator request", attrs...)
}

// app returns the path's app, if the config in force has it.
func (a *operatorAPI) app(r *http.Request) (string, string) {
	app := r.PathValue("app")
	f := a.gw.Config()
	if f == nil {
		return "", "admin.unknown_app"
	}
	if _, ok := f.Config.Apps[app]; !ok {
		return "", "admin.unknown_app"
	}
	return app, ""
}

func (a *operatorAPI) blockVersion(blocked bool) adminFunc {
	return func(r *http.Request) (any, string, error) {
		app, reason := a.app(r)
		if reason != "" {
			return nil, reason, nil
		}
		ver := r.PathValue("version")
		if !printable(ver, 64) {
			return nil, "admin.bad_request", nil
		}
		if err := a.gw.durable.SetVersionBlocked(r.Context(), app, ver, blocked); err != nil {
			return nil, storeReason(err), err
		}
		return map[string]any{"app": app, "version": ver, "blocked": blocked}, "", nil
	}
}

func (a *operatorAPI) revoke(r *http.Request) (any, string, error) {
	app, reason := a.app(r)
	if reason != "" {
		return nil, reason, nil
	}
	install := r.PathValue("install")
	if !printable(install, store.MaxKeyLen) {
		return nil, "admin.bad_request", nil
	}
	if err := a.gw.durable.RevokeDevice(r.Context(), app, install, a.gw.now()); err != nil {
		return nil, storeReason(err), err
	}
	// Revoking twice keeps the first time: answer with the stored one.
	d, err := a.gw.durable.Device(r.Context(), app, install)
	if err != nil {
		return nil, storeReason(err), err
	}
	return map[string]any{"app": app, "install": install, "revoked_at": d.RevokedAt.UTC().Format(time.RFC3339Nano)}, "", nil
}

// cutoff refuses the app's tokens issued before the body's time, or now.
// A time in the future would refuse every token until then, the ones
// issued to apps re-attesting too: it is refused.
func (a *operatorAPI) cutoff(r *http.Request) (any, string, error) {
	app, reason := a.app(r)
	if reason != "" {
		return nil, reason, nil
	}
	var req struct {
		Before *time.Time `json:"before"`
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, maxAdminBody+1))
	if err != nil || len(b) > maxAdminBody {
		return nil, "admin.bad_request", err
	}
	now := a.gw.now()
	before := now
	if len(bytes.TrimSpace(b)) > 0 {
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil || dec.More() {
			return nil, "admin.bad_request", err
		}
		if req.Before != nil {
			before = *req.Before
		}
	}
	if before.IsZero() || before.After(now.Add(time.Minute)) {
		return nil, "admin.bad_request", errors.New("the cut-off must not be in the future")
	}
	if err := a.gw.durable.SetTokenCutoff(r.Context(), app, before); err != nil {
		return nil, storeReason(err), err
	}
	return map[string]any{"app": app, "before": before.UTC().Format(time.RFC3339Nano)}, "", nil
}

func (a *operatorAPI) removeCutoff(r *http.Request) (any, string, error) {
	app, reason := a.app(r)
	if reason != "" {
		return nil, reason, nil
	}
	if err := a.gw.durable.SetTokenCutoff(r.Context(), app, time.Time{}); err != nil {
		return nil, storeReason(err), err
	}
	return map[string]any{"app": app, "before": nil}, "", nil
}

// controlsView is the answer of GET /v1/controls.
type controlsView struct {
	Generation      uint64              `json:"generation"`
	BlockedVersions map[string][]string `json:"blocked_versions"`
	TokenCutoffs    map[string]string   `json:"token_cutoffs"`
	Revoked         []revokedView       `json:"revoked"`
}

type revokedView struct {
	App       string `json:"app"`
	Install   string `json:"install"`
	RevokedAt string `json:"revoked_at"`
}

// controls answers the controls as the store holds them now (not this
// node's cache, which may be one poll behind).
func (a *operatorAPI) controls(r *http.Request) (any, string, error) {
	snap, err := a.gw.durable.Snapshot(r.Context())
	if err != nil {
		return nil, storeReason(err), err
	}
	v := controlsView{Generation: snap.Generation, BlockedVersions: snap.BlockedVersions, TokenCutoffs: map[string]string{}, Revoked: []revokedView{}}
	for app, t := range snap.TokenCutoffs {
		v.TokenCutoffs[app] = t.UTC().Format(time.RFC3339Nano)
	}
	for k, t := range snap.Revoked {
		app, install, _ := strings.Cut(k, "/")
		v.Revoked = append(v.Revoked, revokedView{App: app, Install: install, RevokedAt: t.UTC().Format(time.RFC3339Nano)})
	}
	sort.Slice(v.Revoked, func(i, j int) bool {
		return v.Revoked[i].App+"/"+v.Revoked[i].Install < v.Revoked[j].App+"/"+v.Revoked[j].Install
	})
	return v, "", nil
}

// deviceView is the answer of GET /v1/apps/{app}/devices/{install}.
type deviceView struct {
	App       string          `json:"app"`
	Install   string          `json:"install"`
	Platform  string          `json:"platform"`
	PublicKey string          `json:"public_key"` // PKIX DER, standard base64
	BoundKey  string          `json:"bound_key"`
	Counter   uint64          `json:"counter"`
	Facts     json.RawMessage `json:"facts,omitempty"`
	FirstSeen string          `json:"first_seen"`
	LastSeen  string          `json:"last_seen"`
	RevokedAt string          `json:"revoked_at,omitempty"`
}

func (a *operatorAPI) device(r *http.Request) (any, string, error) {
	app, reason := a.app(r)
	if reason != "" {
		return nil, reason, nil
	}
	install := r.PathValue("install")
	if !printable(install, store.MaxKeyLen) {
		return nil, "admin.bad_request", nil
	}
	d, err := a.gw.durable.Device(r.Context(), app, install)
	if err != nil {
		return nil, storeReason(err), err
	}
	v := deviceView{
		App: d.App, Install: d.KeyID, Platform: d.Platform, PublicKey: base64.StdEncoding.EncodeToString(d.PublicKey),
		BoundKey: d.BoundKey, Counter: d.Counter, FirstSeen: d.FirstSeen.UTC().Format(time.RFC3339Nano),
		LastSeen: d.LastSeen.UTC().Format(time.RFC3339Nano),
	}
	if json.Valid(d.Facts) {
		v.Facts = d.Facts
	}
	if !d.RevokedAt.IsZero() {
		v.RevokedAt = d.RevokedAt.UTC().Format(time.RFC3339Nano)
	}
	return v, "", nil
}

// storeReason maps a store error.
func storeReason(err error) string {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return "admin.not_found"
	case errors.Is(err, store.ErrInvalid):
		return "admin.bad_request"
	}
	return "admin.unavailable"
}

// printable reports whether s is 1 to max bytes of printable ASCII.
func printable(s string, max int) bool {
	if s == "" || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// adminProblem renders an operator API refusal as problem+json.
func adminProblem(w http.ResponseWriter, reason string) {
	ri := adminReasons[reason]
	h := w.Header()
	h.Set("Content-Type", "application/problem+json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	body, _ := json.Marshal(map[string]any{
		"type": ProblemTypePrefix + reason, "title": http.StatusText(ri.status), "status": ri.status,
		"detail": ri.detail, "reason": reason,
	})
	h.Set("Content-Length", strconv.Itoa(len(body)+1))
	w.WriteHeader(ri.status)
	_, _ = w.Write(append(body, '\n'))
}

// refreshControls makes this process's controls cache read the store now,
// if attestation runs.
func (g *Gateway) refreshControls(ctx context.Context) {
	g.attest.mu.Lock()
	c := g.attest.controls
	g.attest.mu.Unlock()
	if c != nil {
		_ = c.Refresh(ctx)
	}
}
