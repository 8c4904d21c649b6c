package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/drawbridge-gw/drawbridge/internal/token"
)

func newTokenCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:                        "token",
		Short:                      "Verify and inspect tokens",
		Args:                       noSubcommandArgs,
		RunE:                       func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
		SuggestionsMinimumDistance: 2,
	}
	cmd.AddCommand(newTokenVerifyCmd(), newTokenInspectCmd())
	return cmd
}

// tokenVerdict is what 'token verify' prints.
type tokenVerdict struct {
	Valid   bool           `json:"valid"`
	Reason  string         `json:"reason,omitempty"`
	Message string         `json:"message,omitempty"`
	Format  string         `json:"format,omitempty"`
	Issuer  string         `json:"issuer,omitempty"`
	Header  map[string]any `json:"header,omitempty"`
	Claims  map[string]any `json:"claims,omitempty"`
}

func newTokenVerifyCmd() *cobra.Command {
	var jwks, keyFile, iss, aud, algs, at, typ string
	cmd := &cobra.Command{
		Use:   "verify --jwks FILE|URL [--iss ISS] [--aud AUD] [--alg LIST] [--at RFC3339] [TOKEN|-]",
		Short: "Verify a token as the gateway would and print a JSON tokenVerdict",
		Long: `Verify a JWS, a JWE-wrapped JWS or a PASETO v4 token with the gateway's rules
and print a JSON tokenVerdict: valid, and either the reason of the first check
that failed (in the order the token package documents) or the verified
header and claims. The token is the argument, or standard input when it is
"-" or absent.

Keys come from --jwks (a JWK Set file or URL) and/or --key (a JWK, JWK Set,
PEM key, or a PASERK k4.local./k4.public. key for PASETO, or a symmetric JWK).
Without --alg, the allowed algorithms are those the keys declare; a key that
declares none then allows nothing, and --alg is required. Without --at the
time is now; no leeway is applied. Exit 0 when valid, 1 when refused, 2 on
bad usage.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 1 {
				return usagef("token verify takes at most one token")
			}
			if jwks == "" && keyFile == "" {
				return usagef("token verify needs --jwks FILE|URL or --key FILE")
			}
			now := time.Now
			if at != "" {
				t, err := time.Parse(time.RFC3339, at)
				if err != nil {
					return usagef("--at wants an RFC 3339 time such as 2026-01-02T15:04:05Z, got %q", at)
				}
				now = func() time.Time { return t }
			}
			var sources []token.KeySource
			var keys []*token.Key
			if jwks != "" {
				set, err := loadJWKS(cmd.Context(), jwks)
				if err != nil {
					return usagef("--jwks: %v", err)
				}
				sources, keys = append(sources, set), append(keys, set.Keys()...)
			}
			if keyFile != "" {
				b, err := os.ReadFile(keyFile)
				if err != nil {
					return usagef("--key: %v", err)
				}
				set, err := token.ParseKeys(b)
				if err != nil {
					return usagef("--key: %v", err)
				}
				sources, keys = append(sources, set), append(keys, set.Keys()...)
			}
			allow, err := allowList(algs, keys)
			if err != nil {
				return err
			}
			raw, err := readToken(cmd.InOrStdin(), args)
			if err != nil {
				return err
			}
			ic := token.IssuerConfig{Issuer: iss, Keys: sources, Algorithms: allow, Type: typ}
			if aud != "" {
				ic.Audiences = []string{aud}
			}
			v, err := token.NewVerifier(token.Config{Issuers: []token.IssuerConfig{ic}, Now: now})
			if err != nil {
				return usagef("%v", err)
			}
			out := tokenVerdict{}
			tok, err := v.Verify(cmd.Context(), raw)
			if err != nil {
				out.Reason, out.Message = token.ReasonOf(err), err.Error()
			} else {
				out = tokenVerdict{Valid: true, Format: tok.Format, Issuer: tok.Claims.Issuer, Header: tok.Header, Claims: tok.Claims.Map()}
			}
			if err := printJSON(cmd.OutOrStdout(), out); err != nil {
				return err
			}
			if !out.Valid {
				return silentError{ExitRefused}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&jwks, "jwks", "", "JWK Set `FILE` or URL with the verification keys")
	f.StringVar(&keyFile, "key", "", "key `FILE`: JWK, JWK Set, PEM, or PASERK (k4.local./k4.public.)")
	f.StringVar(&iss, "iss", "", "required issuer (exact); default: any")
	f.StringVar(&aud, "aud", "", "required audience; default: not checked")
	f.StringVar(&algs, "alg", "", "comma-separated algorithm allow-list; default: the algs the keys declare")
	f.StringVar(&at, "at", "", "verify at this RFC 3339 time; default: now")
	f.StringVar(&typ, "typ", "", "required typ, such as at+jwt")
	return cmd
}

// allowList is --alg, or the algorithms the keys declare.
func allowList(flag string, keys []*token.Key) ([]string, error) {
	if flag != "" {
		var out []string
		for _, a := range strings.Split(flag, ",") {
			a = strings.TrimSpace(a)
			if !slices.Contains(token.SignatureAlgorithms(), a) {
				return nil, usagef("--alg: unknown algorithm %q (known: %s)", a, strings.Join(token.SignatureAlgorithms(), ", "))
			}
			out = append(out, a)
		}
		return out, nil
	}
	var out []string
	for _, k := range keys {
		if k.Alg() == "" {
			name := k.KID()
			if name == "" {
				name = "a " + k.Type() + " key"
			}
			return nil, usagef("key %s declares no alg, so the allow-list cannot come from the keys: pass --alg", name)
		}
		if !slices.Contains(out, k.Alg()) && slices.Contains(token.SignatureAlgorithms(), k.Alg()) {
			out = append(out, k.Alg())
		}
	}
	if len(out) == 0 {
		return nil, usagef("the keys declare no signature algorithm: pass --alg")
	}
	return out, nil
}

// loadJWKS reads a JWK Set from a file or an https (or loopback http) URL.
func loadJWKS(ctx context.Context, src string) (*token.KeySet, error) {
	if !strings.HasPrefix(src, "https://") && !strings.HasPrefix(src, "http://") {
		b, err := os.ReadFile(src)
		if err != nil {
			return nil, err
		}
		return token.ParseKeys(b)
	}
	if err := token.CheckURL(src); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, src, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: status %d", src, resp.StatusCode)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	return token.ParseJWKS(b)
}

// readToken is the argument, or standard input for "-" or no argument.
func readToken(stdin io.Reader, args []string) (string, error) {
	if len(args) == 1 && args[0] != "-" {
		return strings.TrimSpace(args[0]), nil
	}
	r := bufio.NewReader(io.LimitReader(stdin, 1<<20))
	b, err := io.ReadAll(r)
	if err != nil {
		return "", err
	}
	tok := strings.TrimSpace(string(b))
	if tok == "" {
		return "", usagef("no token: pass it as an argument or on standard input")
	}
	return tok, nil
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func newTokenInspectCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "inspect [TOKEN|-]",
		Short: "Decode a token's header and claims WITHOUT verifying anything",
		Long: `Decode a JWS, JWE or PASETO v4 token and print its header (or footer) and
claims. NOTHING IS VERIFIED: not the signature, not the issuer, not the
expiry. Use 'token verify' to decide whether to trust a token.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			raw, err := readToken(cmd.InOrStdin(), args)
			if err != nil {
				return err
			}
			in, err := token.Inspect(raw, 0)
			if err != nil {
				return printRefusal(cmd, err)
			}
			out := struct {
				Verified bool   `json:"verified"`
				Warning  string `json:"warning"`
				*token.Inspection
			}{false, "NOT VERIFIED: decoded without checking the signature, issuer or expiry", in}
			return printJSON(cmd.OutOrStdout(), out)
		},
	}
}

func printRefusal(cmd *cobra.Command, err error) error {
	_ = printJSON(cmd.OutOrStdout(), tokenVerdict{Reason: token.ReasonOf(err), Message: err.Error()})
	return silentError{ExitRefused}
}
