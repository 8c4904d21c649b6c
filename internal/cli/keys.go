package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/drawbridge-gw/drawbridge/internal/token"
)

func newKeysCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:                        "keys",
		Short:                      "Generate signing keys",
		Args:                       noSubcommandArgs,
		RunE:                       func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
		SuggestionsMinimumDistance: 2,
	}
	var alg, out string
	gen := &cobra.Command{
		Use:   "generate --alg EdDSA|ES256|RS256 --out DIR",
		Short: "Write a private key (PEM, 0600) and its public JWK Set",
		Long: `Generate a signing key and write DIR/private.pem (PKCS#8, mode 0600) and
DIR/jwks.json, its public JWK Set: kid is the key's RFC 7638 thumbprint,
with alg and use "sig". Existing files are never overwritten.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch alg {
			case "EdDSA", "ES256", "RS256":
			default:
				return usagef("--alg wants EdDSA, ES256 or RS256, got %q", alg)
			}
			if out == "" {
				return usagef("keys generate needs --out DIR")
			}
			k, err := token.GenerateKey(alg)
			if err != nil {
				return err
			}
			priv, err := k.PrivatePEM()
			if err != nil {
				return err
			}
			jwks, err := token.PublicJWKS(k)
			if err != nil {
				return err
			}
			if err := os.MkdirAll(out, 0o700); err != nil {
				return err
			}
			privPath, jwksPath := filepath.Join(out, "private.pem"), filepath.Join(out, "jwks.json")
			for _, p := range []string{privPath, jwksPath} {
				if _, err := os.Stat(p); err == nil {
					return fmt.Errorf("%s exists; not overwriting a key", p)
				} else if !errors.Is(err, fs.ErrNotExist) {
					return err
				}
			}
			if err := writeNew(privPath, priv, 0o600); err != nil {
				return err
			}
			if err := writeNew(jwksPath, append(jwks, '\n'), 0o644); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s key %s\n  private key: %s (keep it secret)\n  public JWKS: %s\n", alg, k.KID(), privPath, jwksPath)
			return nil
		},
	}
	gen.Flags().StringVar(&alg, "alg", "", "EdDSA, ES256 or RS256")
	gen.Flags().StringVar(&out, "out", "", "output `DIR`")
	cmd.AddCommand(gen)
	return cmd
}

// writeNew creates a file that must not exist, with mode perm.
func writeNew(path string, b []byte, perm os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
