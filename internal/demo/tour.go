package demo

import (
	_ "embed"
	"fmt"
	"io"
	"path/filepath"
	"strings"
)

// Config is the demo's gateway config, with ${LISTEN}, ${ADMIN_LISTEN} and
// ${UPSTREAM} to fill in.
//
//go:embed demo.yaml
var Config []byte

// Step is one command of the tour and the answer it promises.
type Step struct {
	// Section, when set, is a heading printed before the step.
	Section string
	// Say explains what the step shows.
	Say string
	// Cmd is a shell command to run: curl, or drawbridge client, which
	// prints the status line and the body.
	Cmd string
	// Status is the HTTP status the command receives.
	Status int
	// Reason is the problem reason code of a refusal ("" for success).
	Reason string
	// Contains is text the response body contains.
	Contains string
	// Why explains the answer.
	Why string
}

// Setup is what the demo made at start that the tour's commands use.
type Setup struct {
	// Tokens are the users' access tokens.
	Tokens Tokens
	// App are the attestation tokens.
	App AppTokens
	// Dir is the demo's temporary directory (the development device, the
	// exchange request).
	Dir string
	// Drawbridge is the command that runs drawbridge: the path of the
	// binary the demo runs from, or "go run ./cmd/drawbridge".
	Drawbridge string
	// DecisionLog says where the decision log goes ("stderr"; empty: off).
	DecisionLog string
}

// Tour returns the tour's steps for a gateway at gw (host:port) with its
// admin listener at admin, using what the demo made at start.
func Tour(gw, admin string, s Setup) []Step {
	base := "http://" + gw
	tok := s.Tokens
	app := "-A 'ShopApp/1.4 (iPhone; iOS 18.1)'"
	auth := func(t string) string { return "-H 'Authorization: Bearer " + t + "'" }
	steps := []Step{
		{
			Section:  "Routes, paths and addresses",
			Say:      "An app's request for the catalogue passes every layer and reaches the shop API.",
			Cmd:      "curl -s " + app + " " + base + "/api/products",
			Status:   200,
			Contains: `"products"`,
			Why:      "route shop matched /api/; cors (no Origin: not a browser call), useragent and headers allowed it.",
		},
		{
			Say:    "The same request with curl's own User-Agent is refused.",
			Cmd:    "curl -s " + base + "/api/products",
			Status: 403,
			Reason: "useragent.denied",
			Why:    "curl/* is on the deny list. A weak layer: the previous step passed by claiming to be the app. Later layers (tokens, app attestation) prove who and what is calling.",
		},
		{
			Say:    "The shop's admin API is only for the office network.",
			Cmd:    "curl -s " + app + " " + base + "/api/admin/stats",
			Status: 403,
			Reason: "ip.denied",
			Why:    "route admin allows 10.0.0.0/8 only; you are 127.0.0.1.",
		},
		{
			Say:    "Claiming an office address in X-Forwarded-For does not help.",
			Cmd:    "curl -s " + app + " -H 'X-Forwarded-For: 10.0.0.7' " + base + "/api/admin/stats",
			Status: 403,
			Reason: "ip.denied",
			Why:    "no trusted_proxies are configured, so the client address is the TCP peer and forwarded headers are ignored.",
		},
		{
			Say:      "The upstream is told the real client address, whatever the client claims.",
			Cmd:      "curl -s " + app + " -H 'X-Real-IP: 10.0.0.7' -H 'X-Forwarded-For: 10.0.0.7' " + base + "/api/whoami",
			Status:   200,
			Contains: `"x_real_ip":"127.0.0.1"`,
			Why:      "the gateway strips client-sent address headers and sets X-Forwarded-For, X-Real-IP and X-Request-Id itself.",
		},
		{
			Say:      "Encoded paths are normalised once: /%61pi/products is judged and forwarded as /api/products.",
			Cmd:      "curl -s " + app + " " + base + "/%61pi/products",
			Status:   200,
			Contains: `"products"`,
			Why:      "unreserved characters are decoded before routing, so policies and the upstream see the same path.",
		},
		{
			Say:    "Dot segments cannot climb out of a route: /api/../admin/stats is /admin/stats, which no route serves.",
			Cmd:    "curl -s --path-as-is " + app + " " + base + "/api/../admin/stats",
			Status: 404,
			Reason: "route.not_found",
			Why:    "requests no route matches are refused and never forwarded.",
		},
		{
			Say:    "An encoded slash has no single safe reading and is refused.",
			Cmd:    "curl -s --path-as-is " + app + " " + base + "/api/products/..%2f..%2fadmin/stats",
			Status: 400,
			Reason: "path.encoded_separator",
			Why:    "%2F, backslashes, double encoding and ';' path parameters are refused before routing.",
		},
		{
			Section:  "Who is calling: the user's access token",
			Say:      "Alice's orders need her access token; the shop learns who she is from the gateway.",
			Cmd:      "curl -s " + app + " " + auth(tok.Alice) + " " + base + "/api/orders",
			Status:   200,
			Contains: `"user":"alice"`,
			Why:      "route orders: the jwt layer verified the EdDSA signature with the issuer's key, the issuer, audience, typ at+jwt, exp and the orders:read scope, and set X-User-Sub from sub.",
		},
		{
			Say:      "Claiming to be someone else in X-User-Sub changes nothing.",
			Cmd:      "curl -s " + app + " " + auth(tok.Alice) + " -H 'X-User-Sub: admin' " + base + "/api/orders",
			Status:   200,
			Contains: `"user":"alice"`,
			Why:      "headers the gateway vouches for are removed from the client's request and set from the verified token.",
		},
		{
			Say:    "Without a token, no orders.",
			Cmd:    "curl -s " + app + " " + base + "/api/orders",
			Status: 401,
			Reason: "jwt.missing",
			Why:    "the answer carries WWW-Authenticate: Bearer (RFC 6750).",
		},
		{
			Say:    "Alice's token from yesterday has expired.",
			Cmd:    "curl -s " + app + " " + auth(tok.Expired) + " " + base + "/api/orders",
			Status: 401,
			Reason: "jwt.expired",
			Why:    "its exp passed an hour ago, beyond the issuer's 30s leeway.",
		},
		{
			Say:    "A token signed by another key, though it names the issuer's kid, is forged.",
			Cmd:    "curl -s " + app + " " + auth(tok.Forged) + " " + base + "/api/orders",
			Status: 401,
			Reason: "jwt.invalid_signature",
			Why:    "only the issuer's published key verifies; the token's header chooses nothing.",
		},
		{
			Say:    "An unsigned token (alg none) is never accepted.",
			Cmd:    "curl -s " + app + " " + auth(tok.None) + " " + base + "/api/orders",
			Status: 401,
			Reason: "jwt.alg_none",
			Why:    "the algorithm allow-list is configuration (here EdDSA), never the token's word.",
		},
	}
	steps = append(steps, attestationSteps(base, s)...)
	return append(steps, []Step{
		{
			Section: "Browsers and operators",
			Say:     "A browser page from another origin cannot call the API.",
			Cmd:     "curl -s -X OPTIONS " + app + " -H 'Origin: https://evil.example' -H 'Access-Control-Request-Method: POST' " + base + "/api/orders",
			Status:  403,
			Reason:  "cors.preflight_denied",
			Why:     "only https://shop.example is on the CORS allow-list.",
		},
		{
			Say:    "The gateway's metrics are not on the API listener.",
			Cmd:    "curl -s " + app + " " + base + "/metrics",
			Status: 404,
			Reason: "route.not_found",
			Why:    "metrics, health and readiness live on the separate admin listener.",
		},
		{
			Say:      "Every decision is counted on the admin listener.",
			Cmd:      "curl -s http://" + admin + "/metrics",
			Status:   200,
			Contains: "drawbridge_decisions_total",
			Why:      "each request is one decision: counted by route, layer, decision and reason, and logged as one JSON line.",
		},
	}...)
}

// PrintTour writes the tour, with the tokens it uses.
func PrintTour(w io.Writer, gw, admin string, s Setup, steps []Step) {
	tok, at := s.Tokens, s.App
	fmt.Fprintf(w, "drawbridge demo: the gateway listens on http://%s, in front of a small shop API.\n", gw)
	fmt.Fprintf(w, "Metrics, health and readiness: http://%s/metrics, /healthz, /readyz.", admin)
	if s.DecisionLog != "" {
		fmt.Fprintf(w, " Decision log: %s.", s.DecisionLog)
	}
	fmt.Fprintf(w, "\n\n")
	fmt.Fprintf(w, "Access tokens minted at start by the demo's identity issuer %s (its EdDSA key\n", Issuer)
	fmt.Fprintf(w, "was made at start and lives only in memory; the gateway has its public JWKS):\n")
	fmt.Fprintf(w, "  ALICE=%s\n  EXPIRED=%s\n  FORGED=%s\n  NONE=%s\n\n", tok.Alice, tok.Expired, tok.Forged, tok.None)
	fmt.Fprintf(w, "App attestation (docs/protocol.md): the demo made a development CA and a device of\n")
	fmt.Fprintf(w, "app shop in DEMO_DIR (removed at exit), attested through the gateway, revoked one\n")
	fmt.Fprintf(w, "install and blocked version %s through the operator API, and kept these\n", BlockedVersion)
	fmt.Fprintf(w, "attestation tokens (valid for an hour but APP_EXPIRED):\n")
	fmt.Fprintf(w, "  DEMO_DIR=%s\n  APP_TOKEN=%s\n  APP_EXPIRED=%s\n  KIOSK_TOKEN=%s\n  REVOKED_TOKEN=%s\n  OLD_VERSION_TOKEN=%s\n",
		s.Dir, at.Valid, at.Expired, at.Kiosk, at.Revoked, at.OldVersion)
	fmt.Fprintf(w, "Read the operator's controls with: %s admin --admin http://%s --token-file %s controls\n\n",
		s.Drawbridge, admin, ShellQuote(filepath.Join(s.Dir, AdminToken)))
	where := "in another terminal"
	if strings.HasPrefix(s.Drawbridge, "go run ") {
		where += ", from the repository's root"
	}
	fmt.Fprintf(w, "Try these (%s):\n", where)
	for i, st := range steps {
		if st.Section != "" {
			fmt.Fprintf(w, "\n## %s\n", st.Section)
		}
		fmt.Fprintf(w, "\n%d. %s\n   $ %s\n", i+1, st.Say, st.Cmd)
		answer := fmt.Sprintf("%d", st.Status)
		if st.Reason != "" {
			answer += " " + st.Reason
		}
		fmt.Fprintf(w, "   -> %s: %s\n", answer, st.Why)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, strings.TrimSpace(`Refusals are application/problem+json with a stable "reason" code. Press Ctrl-C to stop.`))
}

// ShellQuote quotes s for sh when it needs quoting.
func ShellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:@%+=,") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
