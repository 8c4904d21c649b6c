package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// The admin commands call the operator API of a running gateway (its
// admin listener; internal/gateway/admin_api.go) to change and read the
// run-time controls of attestation. A change made through one node
// applies on every node sharing its durable store within one poll
// interval.

// adminFlags are the flags every admin command takes.
type adminFlags struct {
	url       string
	tokenFile string
}

func newAdminCmd() *cobra.Command {
	f := &adminFlags{}
	cmd := &cobra.Command{
		Use:   "admin",
		Short: "Change and read run-time controls through a gateway's operator API",
		Long: `Block app versions, revoke app installs and cut off attestation tokens on a
running gateway, and read the controls in force, through the operator API on its
admin listener. Changes are stored in the gateway's durable store and apply on
every node sharing it within a second.

--admin is the admin listener's URL (http://127.0.0.1:9090). --token-file holds
the operator token (admin.token in the gateway's config); changes always need
it, reads when the gateway has one. Answers are printed as JSON.

Exit 0 on success, 1 when the gateway refuses or cannot be reached, 2 on bad
usage.`,
		Args:                       noSubcommandArgs,
		RunE:                       func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
		SuggestionsMinimumDistance: 2,
	}
	cmd.PersistentFlags().StringVar(&f.url, "admin", "", "the gateway's admin URL, e.g. http://127.0.0.1:9090")
	cmd.PersistentFlags().StringVar(&f.tokenFile, "token-file", "", "file holding the operator token")
	seg := url.PathEscape
	cmd.AddCommand(
		adminCmd(f, "block-version APP VERSION", "Refuse a version of an app (attestation.version_blocked)", 2,
			func(a []string) (string, string, []byte) {
				return http.MethodPost, "/v1/apps/" + seg(a[0]) + "/versions/" + seg(a[1]) + "/block", nil
			}),
		adminCmd(f, "unblock-version APP VERSION", "Accept a version blocked at run time again", 2,
			func(a []string) (string, string, []byte) {
				return http.MethodDelete, "/v1/apps/" + seg(a[0]) + "/versions/" + seg(a[1]) + "/block", nil
			}),
		adminCmd(f, "revoke-device APP INSTALL", "Revoke an app install (attestation.device_revoked); it cannot register again", 2,
			func(a []string) (string, string, []byte) {
				return http.MethodPost, "/v1/apps/" + seg(a[0]) + "/devices/" + seg(a[1]) + "/revoke", nil
			}),
		newAdminCutoffCmd(f),
		adminCmd(f, "controls", "Print every control in force", 0,
			func([]string) (string, string, []byte) { return http.MethodGet, "/v1/controls", nil }),
		adminCmd(f, "device APP INSTALL", "Print an app install's record", 2,
			func(a []string) (string, string, []byte) {
				return http.MethodGet, "/v1/apps/" + seg(a[0]) + "/devices/" + seg(a[1]), nil
			}),
	)
	return cmd
}

// adminCmd is an admin subcommand of n arguments that sends the request
// build returns.
func adminCmd(f *adminFlags, use, short string, n int, build func(args []string) (method, path string, body []byte)) *cobra.Command {
	return &cobra.Command{
		Use:   use,
		Short: short,
		Args:  exactArgs(n),
		RunE: func(cmd *cobra.Command, args []string) error {
			method, path, body := build(args)
			return f.call(cmd, method, path, body)
		},
	}
}

func newAdminCutoffCmd(f *adminFlags) *cobra.Command {
	var before string
	var remove bool
	cmd := &cobra.Command{
		Use:   "cutoff APP [--before RFC3339 | --remove]",
		Short: "Refuse an app's attestation tokens issued before a time (default now)",
		Long: `Refuse the app's attestation tokens issued before --before (RFC 3339), or before
now: every install must attest again (attestation.token_revoked). --remove
lifts the cut-off.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := "/v1/apps/" + url.PathEscape(args[0]) + "/cutoff"
			if remove {
				if before != "" {
					return usagef("cutoff takes --before or --remove, not both")
				}
				return f.call(cmd, http.MethodDelete, path, nil)
			}
			var body []byte
			if before != "" {
				t, err := time.Parse(time.RFC3339, before)
				if err != nil {
					return usagef("--before wants an RFC 3339 time such as 2026-01-02T15:04:05Z, got %q", before)
				}
				body, _ = json.Marshal(map[string]string{"before": t.Format(time.RFC3339Nano)})
			}
			return f.call(cmd, http.MethodPost, path, body)
		},
	}
	cmd.Flags().StringVar(&before, "before", "", "refuse tokens issued before this time (RFC 3339); default now")
	cmd.Flags().BoolVar(&remove, "remove", false, "remove the app's cut-off")
	return cmd
}

// call sends one request to the operator API and prints the answer.
func (f *adminFlags) call(cmd *cobra.Command, method, path string, body []byte) error {
	base, err := f.base()
	if err != nil {
		return err
	}
	var tok string
	if f.tokenFile != "" {
		b, err := os.ReadFile(f.tokenFile)
		if err != nil {
			return fmt.Errorf("admin: reading the token file: %w", err)
		}
		tok = strings.TrimRight(string(b), "\r\n")
	}
	ctx, cancel := context.WithTimeout(cmd.Context(), 15*time.Second)
	defer cancel()
	var rb io.Reader
	if body != nil {
		rb = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, base+path, rb)
	if err != nil {
		return usagef("admin: %v", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	client := &http.Client{
		// The operator token must not follow a redirect elsewhere.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("admin: %w", err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return fmt.Errorf("admin: reading the answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		var p struct {
			Reason string `json:"reason"`
			Detail string `json:"detail"`
		}
		if json.Unmarshal(out, &p) == nil && p.Reason != "" {
			return fmt.Errorf("admin: refused: %s (%d): %s", p.Reason, resp.StatusCode, p.Detail)
		}
		return fmt.Errorf("admin: %s %s answered %s", method, path, resp.Status)
	}
	var pretty bytes.Buffer
	if json.Indent(&pretty, out, "", "  ") != nil {
		return fmt.Errorf("admin: the answer is not JSON")
	}
	fmt.Fprintln(cmd.OutOrStdout(), strings.TrimSpace(pretty.String()))
	return nil
}

// base checks --admin and returns it without a trailing slash.
func (f *adminFlags) base() (string, error) {
	if f.url == "" {
		return "", usagef("admin commands need --admin URL (the gateway's admin listener)")
	}
	u, err := url.Parse(f.url)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return "", usagef("--admin wants an http or https URL such as http://127.0.0.1:9090, got %q", f.url)
	}
	return strings.TrimSuffix(f.url, "/"), nil
}
