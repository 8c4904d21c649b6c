package cli

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/drawbridge-gw/drawbridge/client"
)

// clientFlags are the flags of 'drawbridge client'.
type clientFlags struct {
	gateway, app, devDevice, appVersion, prefix, tokenHeader string
	bearer, attestationToken, proof, method, data            string
	headers                                                  []string
	bind, printToken, verbose                                bool
	timeout                                                  time.Duration
}

func newClientCmd() *cobra.Command {
	f := &clientFlags{}
	cmd := &cobra.Command{
		Use:   "client --gateway URL --app APP --dev-device DIR [flags] PATH",
		Short: "Call a route through the gateway as an attested app would",
		Long: `Call PATH on the gateway the way an app does (docs/protocol.md): attest with a
development device (what 'drawbridge attestation dev-device' wrote in DIR),
receive an attestation token bound to the device key, and send the request with
the token and a proof made with that key: an HTTP message signature (RFC 9421,
the default) or a DPoP proof (RFC 9449). The device key is also the
request-signing key, as an Android app's attested Keystore key may be: the
gateway binds a device to one signing key, so every run can attest it again.

Prints the response's status line and body. With -v, also the attestation
token's claims and the requests sent (credentials shortened) on stderr.

--print-token prints an attestation token instead of calling a route, for
curl. --attestation-token sends a token obtained elsewhere instead of
attesting; its proofs are made with the device key of --dev-device, or with a
fresh key without it, as a client that copied the token would: the gateway
refuses them.

Exit 0 on a 2xx answer, 1 on any other answer or a refused attestation, 2 on
bad usage.`,
		Example: `  drawbridge client --gateway http://127.0.0.1:8080 --app shop --dev-device devdevice \
      --bearer "$ACCESS_TOKEN" /api/favourites
  drawbridge client --gateway http://127.0.0.1:8080 --app shop --dev-device devdevice \
      --proof dpop -X POST -d '{"product_id":3,"quantity":1}' /api/orders`,
		Args: func(cmd *cobra.Command, args []string) error {
			if f.printToken {
				return exactArgs(0)(cmd, args)
			}
			return exactArgs(1)(cmd, args)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			tr, err := f.transport(cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), f.timeout)
			defer cancel()
			if f.printToken {
				return f.printTokenOf(ctx, cmd, tr)
			}
			req, err := f.request(ctx, args[0])
			if err != nil {
				return err
			}
			return f.call(cmd, tr, req)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.gateway, "gateway", "", "the gateway's origin, such as http://127.0.0.1:8080")
	fl.StringVar(&f.app, "app", "", "the app's id in the gateway's config")
	fl.StringVar(&f.devDevice, "dev-device", "", "`DIR` of the development device (device.key, device.pem)")
	fl.StringVar(&f.appVersion, "app-version", "", "the app version to report (the token's ver)")
	fl.StringVar(&f.prefix, "prefix", "", "the gateway's attestation.prefix")
	fl.StringVar(&f.tokenHeader, "token-header", client.DefaultHeader, "the header that carries the attestation token")
	fl.StringVar(&f.bearer, "bearer", "", "a user's access `TOKEN`, sent as Authorization: Bearer TOKEN")
	fl.BoolVar(&f.bind, "bind-authorization", false, "bind the attestation token to the Authorization header (the token's uth)")
	fl.StringVar(&f.proof, "proof", string(client.ProofSignature), "proof of possession: signature, dpop or none")
	fl.StringVarP(&f.method, "request", "X", "", "request method (default GET, POST with -d)")
	fl.StringVarP(&f.data, "data", "d", "", "request body; @FILE reads it from a file (Content-Type: application/json unless -H sets one)")
	fl.StringArrayVarP(&f.headers, "header", "H", nil, "extra request header, 'Name: value' (repeatable)")
	fl.StringVar(&f.attestationToken, "attestation-token", "", "send this attestation `TOKEN` instead of attesting")
	fl.BoolVar(&f.printToken, "print-token", false, "print an attestation token and exit")
	fl.BoolVarP(&f.verbose, "verbose", "v", false, "print the token's claims and the requests sent on stderr")
	fl.DurationVar(&f.timeout, "timeout", 30*time.Second, "time limit of the whole call")
	return cmd
}

// transport checks the flags and returns the Transport they describe.
func (f *clientFlags) transport(stderr io.Writer) (*client.Transport, error) {
	u, err := url.Parse(f.gateway)
	if f.gateway == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
		return nil, usagef("--gateway wants the gateway's origin, such as http://127.0.0.1:8080, got %q", f.gateway)
	}
	proof := client.Proof(f.proof)
	if !slices.Contains([]client.Proof{client.ProofSignature, client.ProofDPoP, client.ProofNone}, proof) {
		return nil, usagef("--proof wants signature, dpop or none, got %q", f.proof)
	}
	switch {
	case f.attestationToken == "" && (f.app == "" || f.devDevice == ""):
		return nil, usagef("client needs --app and --dev-device (or --attestation-token)")
	case f.attestationToken != "" && f.printToken:
		return nil, usagef("--print-token attests: it does not take --attestation-token")
	case f.printToken && f.bind:
		return nil, usagef("--print-token makes a token for any Authorization header: it does not take --bind-authorization")
	case f.timeout <= 0:
		return nil, usagef("--timeout must be positive")
	}
	tr := &client.Transport{
		Gateway: strings.TrimSuffix(f.gateway, "/"), Prefix: f.prefix, App: f.app, AppVersion: f.appVersion,
		Proof: proof, Header: f.tokenHeader, BindAuthorization: f.bind, FixedToken: f.attestationToken,
		UserAgent: userAgent(), Base: http.DefaultTransport,
	}
	if f.devDevice != "" {
		dev, err := client.LoadDevAttestor(f.devDevice)
		if err != nil {
			return nil, err
		}
		tr.Attestor, tr.Key = dev, dev.Device
	}
	if f.verbose {
		tr.Base = &tracer{base: tr.Base, w: stderr, tokenHeader: http.CanonicalHeaderKey(f.tokenHeader)}
	}
	return tr, nil
}

func userAgent() string { return "drawbridge-client/" + Version }

// request builds the request to PATH.
func (f *clientFlags) request(ctx context.Context, path string) (*http.Request, error) {
	if !strings.HasPrefix(path, "/") {
		return nil, usagef("PATH must start with /, got %q", path)
	}
	var body []byte
	if name, ok := strings.CutPrefix(f.data, "@"); ok {
		b, err := os.ReadFile(name)
		if err != nil {
			return nil, err
		}
		body = b
	} else if f.data != "" {
		body = []byte(f.data)
	}
	method := f.method
	if method == "" {
		method = http.MethodGet
		if f.data != "" {
			method = http.MethodPost
		}
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(f.gateway, "/")+path, bytes.NewReader(body))
	if err != nil {
		return nil, usagef("%v", err)
	}
	req.Header.Set("User-Agent", userAgent())
	for _, h := range f.headers {
		name, value, ok := strings.Cut(h, ":")
		if !ok || strings.TrimSpace(name) == "" {
			return nil, usagef("-H wants 'Name: value', got %q", h)
		}
		req.Header.Add(strings.TrimSpace(name), strings.TrimSpace(value))
	}
	if len(body) > 0 && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if f.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+f.bearer)
	}
	return req, nil
}

// call sends req and prints the answer.
func (f *clientFlags) call(cmd *cobra.Command, tr *client.Transport, req *http.Request) error {
	out := cmd.OutOrStdout()
	resp, err := (&client.Client{Transport: tr}).Do(req)
	var refused *client.Error
	switch {
	case errors.As(err, &refused):
		// The gateway's refusal of the attestation is the answer to show.
		fmt.Fprintf(out, "%d %s\n", refused.Status, http.StatusText(refused.Status))
		writeBody(out, refused.Body)
		fmt.Fprintln(cmd.ErrOrStderr(), "drawbridge:", refused)
		return silentError{ExitRefused}
	case err != nil:
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("client: reading the answer: %w", err)
	}
	fmt.Fprintln(out, resp.Status)
	writeBody(out, body)
	if resp.StatusCode/100 != 2 {
		return silentError{ExitRefused}
	}
	return nil
}

func (f *clientFlags) printTokenOf(ctx context.Context, cmd *cobra.Command, tr *client.Transport) error {
	tok, err := tr.Token(ctx)
	var refused *client.Error
	if errors.As(err, &refused) {
		writeBody(cmd.ErrOrStderr(), refused.Body)
	}
	if err != nil {
		return err
	}
	if f.verbose {
		printClaims(cmd.ErrOrStderr(), tok.Value)
	}
	fmt.Fprintln(cmd.OutOrStdout(), tok.Value)
	return nil
}

func writeBody(w io.Writer, b []byte) {
	w.Write(b)
	if len(b) > 0 && b[len(b)-1] != '\n' {
		fmt.Fprintln(w)
	}
}

// printClaims writes a token's claims, which are not secret: the app,
// the install, the bound key's thumbprint.
func printClaims(w io.Writer, tok string) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	var pretty bytes.Buffer
	if err != nil || json.Indent(&pretty, payload, "* ", "  ") != nil {
		return
	}
	fmt.Fprintf(w, "* attestation token claims:\n* %s\n", pretty.String())
}

// tracer writes the requests the client sends and the statuses it
// receives, with credentials shortened: enough to see what is sent, not
// enough to reuse it.
type tracer struct {
	base        http.RoundTripper
	w           io.Writer
	tokenHeader string
	shown       string // the token whose claims were printed
}

func (t *tracer) RoundTrip(r *http.Request) (*http.Response, error) {
	if tok := r.Header.Get(t.tokenHeader); tok != "" && tok != t.shown {
		t.shown = tok
		printClaims(t.w, tok)
	}
	fmt.Fprintf(t.w, "> %s %s\n", r.Method, r.URL)
	for _, name := range slices.Sorted(maps.Keys(r.Header)) {
		for _, v := range r.Header[name] {
			if name == t.tokenHeader || name == "Authorization" || name == "Dpop" {
				v = shorten(v)
			}
			fmt.Fprintf(t.w, "> %s: %s\n", name, v)
		}
	}
	resp, err := t.base.RoundTrip(r)
	if err == nil {
		fmt.Fprintf(t.w, "< %s\n", resp.Status)
	}
	return resp, err
}

// shorten keeps the start of a credential.
func shorten(v string) string {
	if len(v) <= 24 {
		return v
	}
	return v[:20] + "…"
}
