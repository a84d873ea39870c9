package main

import (
	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"
)

func (c *cli) configCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use: "config", Short: "Print the effective configuration, secrets masked", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			m := c.cfg.Masked()
			tree, err := jsonRoundTrip(m)
			if err != nil {
				return err
			}
			// Durations read as they are written: "5s", not nanoseconds.
			tree["runtimes"].(map[string]any)["kill_grace"] = m.Runtimes.KillGrace.String()
			tree["river"].(map[string]any)["fetch_cooldown"] = m.River.FetchCooldown.String()
			tree["river"].(map[string]any)["fetch_poll_interval"] = m.River.FetchPollInterval.String()
			if asJSON {
				return writeJSON(c.stdout, tree)
			}
			enc := yaml.NewEncoder(c.stdout)
			enc.SetIndent(2)
			return enc.Encode(tree)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}
