package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/drawbridge-gw/drawbridge/internal/config"
	"github.com/drawbridge-gw/drawbridge/internal/gateway"
)

func newConfigCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Check configs and print the config schema",
		Args:  noSubcommandArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
		// For noSubcommandArgs: cobra's root uses 2 too.
		SuggestionsMinimumDistance: 2,
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "check FILE",
		Short: "Validate a config file: every problem, with file:line:col and field",
		Long: `Validate a config file the way 'serve' and a reload would: decode it strictly
(unknown fields are errors), expand ${VAR} references from the environment,
validate every value and compile every route and policy. Every problem is
printed as FILE:LINE:COL: FIELD: MESSAGE. Exit 0 when the config is valid,
1 when it is not.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := config.Load(args[0], config.Source{})
			if err == nil {
				err = gateway.Check(f)
			}
			if err != nil {
				fmt.Fprintln(cmd.ErrOrStderr(), err)
				return silentError{ExitRefused}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: ok (%d routes, %d upstreams)\n", args[0], len(f.Config.Routes), len(f.Config.Upstreams))
			return nil
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use:   "schema",
		Short: "Print the JSON Schema of the config file, for editors",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := cmd.OutOrStdout().Write(config.Schema)
			return err
		},
	})
	return cmd
}

// noSubcommandArgs refuses arguments to a command that only groups
// subcommands. Cobra checks unknown subcommands only under the root, so
// without it 'config chek x.yaml' would say "takes 0 arguments".
func noSubcommandArgs(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	hint := ""
	if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
		hint = fmt.Sprintf(" (did you mean %q?)", s[0])
	}
	return usagef("unknown command %q for %q%s", args[0], cmd.CommandPath(), hint)
}
