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
			if asJSON {
				return writeJSON(c.stdout, m)
			}
			var tree map[string]any
			b, err := jsonRoundTrip(m)
			if err != nil {
				return err
			}
			tree = b
			enc := yaml.NewEncoder(c.stdout)
			enc.SetIndent(2)
			return enc.Encode(tree)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}
