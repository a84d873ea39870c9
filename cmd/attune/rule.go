package main

import (
	"encoding/json"
	"strconv"

	"github.com/spf13/cobra"
)

func (c *cli) ruleCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "rule", Aliases: []string{"rules"}, Short: "List, show, enable and disable rules", RunE: groupRunE}
	var asJSON bool
	list := &cobra.Command{
		Use: "list", Short: "List rules", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return c.withApp(cmd.Context(), func(a *app) error {
				rs, err := a.db.AutoCommit().Rules(cmd.Context())
				if err != nil {
					return err
				}
				if asJSON {
					return writeJSON(c.stdout, snakeJSON(rs))
				}
				rows := make([][]string, len(rs))
				for i, r := range rs {
					tp, _ := json.Marshal(r.TriggerParams)
					rows[i] = []string{r.Ref, strconv.FormatBool(r.Enabled), r.TriggerRef, string(tp), r.ActionRef}
				}
				return table(c.stdout, []string{"RULE", "ENABLED", "TRIGGER", "TRIGGER PARAMS", "ACTION"}, rows)
			})
		},
	}
	list.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	set := func(use string, enabled bool) *cobra.Command {
		return &cobra.Command{
			Use: use + " REF", Short: use + " a rule (and its timer)", Args: cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				return c.withApp(cmd.Context(), func(a *app) error {
					if err := a.build(nil); err != nil {
						return err
					}
					r, err := a.registry.SetRuleEnabled(cmd.Context(), args[0], enabled)
					if err != nil {
						return err
					}
					state := "disabled"
					if r.Enabled {
						state = "enabled"
					}
					_, err = c.stdout.Write([]byte("rule " + r.Ref + " " + state + "\n"))
					return err
				})
			},
		}
	}
	cmd.AddCommand(list, set("enable", true), set("disable", false))
	cmd.AddCommand(c.ruleGetCmd())
	return cmd
}
