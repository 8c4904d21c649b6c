package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/drawbridge-gw/drawbridge/internal/apikey"
	"github.com/drawbridge-gw/drawbridge/internal/config"
	"github.com/drawbridge-gw/drawbridge/internal/state"
	"github.com/drawbridge-gw/drawbridge/internal/store"
)

// The apikey commands work on the durable store a config names, directly:
// keys can be made before any gateway runs, creating one needs the
// pepper, which the config holds and no API should carry, and every node
// sharing the store sees a change within a second (a key change moves the
// controls' generation, which nodes poll). The operator API is for
// changes to a running fleet that must not need the database's
// credentials; keys are provisioned where the config is.

type apiKeyFlags struct {
	config string
}

func newAPIKeyCmd() *cobra.Command {
	f := &apiKeyFlags{}
	cmd := &cobra.Command{
		Use:   "apikey",
		Short: "Create, list, rotate and revoke API keys",
		Long: `Manage the API keys that apikey policies accept, in the durable store of a
config (state.durable: SQLite or PostgreSQL). Keys are stored as keyed hashes
(HMAC-SHA-256 with api_keys.pepper): a key is shown once, when it is made.
Running gateways that share the store apply changes within a second.

An API key says weakly WHAT is calling: anyone can pull one out of an app.
See docs/apikeys.md for pairing keys with attestation.`,
		Args:                       noSubcommandArgs,
		RunE:                       func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
		SuggestionsMinimumDistance: 2,
	}
	cmd.PersistentFlags().StringVarP(&f.config, "config", "c", "", "config file (YAML) naming the store and the pepper")
	cmd.AddCommand(newAPIKeyCreateCmd(f), newAPIKeyRotateCmd(f), newAPIKeyListCmd(f), newAPIKeyRevokeCmd(f))
	return cmd
}

// keyStore is the store and hasher of the config.
type keyStore struct {
	keys   store.Durable
	hasher *apikey.Hasher
}

// open loads the config and opens its durable store; the caller closes
// it. withPepper also requires api_keys.pepper.
func (f *apiKeyFlags) open(ctx context.Context, withPepper bool) (*keyStore, error) {
	if f.config == "" {
		return nil, usagef("apikey needs --config FILE")
	}
	cf, err := config.Load(f.config, config.Source{})
	if err != nil {
		return nil, err
	}
	c := cf.Config
	if c.State.Durable == "memory" {
		return nil, errors.New("state.durable is memory: keys would vanish when this command exits (use sqlite:PATH or PostgreSQL)")
	}
	ks := &keyStore{}
	if withPepper {
		if ks.hasher, err = apikey.NewHasher([]byte(c.APIKeys.Pepper)); err != nil {
			return nil, fmt.Errorf("api_keys.pepper: %w", err)
		}
	}
	if ks.keys, err = state.OpenDurable(ctx, c.State.Durable); err != nil {
		return nil, err
	}
	return ks, nil
}

func newAPIKeyCreateCmd(f *apiKeyFlags) *cobra.Command {
	var id, name string
	var scopes []string
	var expiresIn time.Duration
	cmd := &cobra.Command{
		Use:   "create --config FILE [--id ID] [--name TEXT] [--scope SCOPE]... [--expires-in DURATION]",
		Short: "Make a key and print it, once",
		Long: `Make an API key and print it on standard output, alone on its line: it is not
stored and cannot be shown again. --id is what logs, upstreams (forward_id)
and rate limits see: 1 to 64 of a-z, 0-9 and '-' (default: random).`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if id == "" {
				id = apikey.NewID()
			}
			cred, err := apikey.New(id)
			if err != nil {
				return usagef("%v", err)
			}
			ks, err := f.open(cmd.Context(), true)
			if err != nil {
				return err
			}
			defer ks.keys.Close()
			now := time.Now()
			k := store.APIKey{ID: id, Hash: ks.hasher.Hash(cred.Secret), Name: name, Scopes: scopes, CreatedAt: now}
			if expiresIn > 0 {
				k.ExpiresAt = now.Add(expiresIn)
			}
			if err := ks.keys.CreateAPIKey(cmd.Context(), k); err != nil {
				if errors.Is(err, store.ErrExists) {
					return fmt.Errorf("key %q exists: rotate it with 'drawbridge apikey rotate %s'", id, id)
				}
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), cred.String())
			fmt.Fprintf(cmd.ErrOrStderr(), "created API key %q%s; it is shown only now: store it\n", id, describe(k))
			return nil
		},
	}
	cmd.Flags().StringVar(&id, "id", "", "the key's id (a-z, 0-9, '-')")
	cmd.Flags().StringVar(&name, "name", "", "what the key is for")
	cmd.Flags().StringArrayVar(&scopes, "scope", nil, "a scope the key grants (repeatable)")
	cmd.Flags().DurationVar(&expiresIn, "expires-in", 0, "make the key stop working after this long (e.g. 2160h)")
	return cmd
}

func newAPIKeyRotateCmd(f *apiKeyFlags) *cobra.Command {
	var overlap time.Duration
	cmd := &cobra.Command{
		Use:   "rotate ID --config FILE [--overlap DURATION]",
		Short: "Give a key a new secret; the old one keeps working for the overlap",
		Long: `Make a new secret for a key and print it, once. The key keeps its id, name and
scopes (its latest secret's). Its other secrets stop working after --overlap
(default 24h), time enough to deploy the new one; 0s ends them now.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if overlap < 0 {
				return usagef("--overlap must not be negative")
			}
			id := args[0]
			cred, err := apikey.New(id)
			if err != nil {
				return usagef("%v", err)
			}
			ks, err := f.open(cmd.Context(), true)
			if err != nil {
				return err
			}
			defer ks.keys.Close()
			old, err := ks.keys.APIKey(cmd.Context(), id)
			if err != nil {
				return notFound(id, err)
			}
			now := time.Now()
			last := old[len(old)-1]
			k := store.APIKey{ID: id, Hash: ks.hasher.Hash(cred.Secret), Name: last.Name, Scopes: last.Scopes, CreatedAt: now, ExpiresAt: last.ExpiresAt}
			if !k.ExpiresAt.IsZero() && !k.ExpiresAt.After(now) {
				k.ExpiresAt = time.Time{} // an expired key rotated is a key renewed
			}
			if err := ks.keys.RotateAPIKey(cmd.Context(), k, now.Add(overlap)); err != nil {
				return notFound(id, err)
			}
			fmt.Fprintln(cmd.OutOrStdout(), cred.String())
			fmt.Fprintf(cmd.ErrOrStderr(), "rotated API key %q: the new secret is shown only now; the old ones stop working at %s\n",
				id, now.Add(overlap).UTC().Format(time.RFC3339))
			return nil
		},
	}
	cmd.Flags().DurationVar(&overlap, "overlap", 24*time.Hour, "how long the old secrets keep working")
	return cmd
}

func newAPIKeyRevokeCmd(f *apiKeyFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "revoke ID --config FILE",
		Short: "Revoke every secret of a key (apikey.revoked)",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ks, err := f.open(cmd.Context(), false)
			if err != nil {
				return err
			}
			defer ks.keys.Close()
			if err := ks.keys.RevokeAPIKey(cmd.Context(), args[0], time.Now()); err != nil {
				return notFound(args[0], err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "revoked API key %q; gateways refuse it within a second\n", args[0])
			return nil
		},
	}
}

func newAPIKeyListCmd(f *apiKeyFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "list --config FILE",
		Short: "List keys and their secrets' state (never the secrets)",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ks, err := f.open(cmd.Context(), false)
			if err != nil {
				return err
			}
			defer ks.keys.Close()
			keys, err := ks.keys.ListAPIKeys(cmd.Context())
			if err != nil {
				return err
			}
			printKeys(cmd.OutOrStdout(), keys, time.Now())
			return nil
		},
	}
}

func printKeys(out io.Writer, keys []store.APIKey, now time.Time) {
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tNAME\tSCOPES\tCREATED\tEXPIRES\tSTATE")
	day := func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return t.UTC().Format(time.RFC3339)
	}
	for _, k := range keys {
		st := "active"
		switch {
		case !k.RevokedAt.IsZero():
			st = "revoked " + day(k.RevokedAt)
		case !k.ExpiresAt.IsZero() && !now.Before(k.ExpiresAt):
			st = "expired"
		}
		name := k.Name
		if name == "" {
			name = "-"
		}
		scopes := strings.Join(k.Scopes, " ")
		if scopes == "" {
			scopes = "-"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, name, scopes, day(k.CreatedAt), day(k.ExpiresAt), st)
	}
	w.Flush()
}

func describe(k store.APIKey) string {
	var parts []string
	if len(k.Scopes) > 0 {
		parts = append(parts, "scopes "+strings.Join(k.Scopes, " "))
	}
	if !k.ExpiresAt.IsZero() {
		parts = append(parts, "expires "+k.ExpiresAt.UTC().Format(time.RFC3339))
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

func notFound(id string, err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("no API key %q", id)
	}
	return err
}
