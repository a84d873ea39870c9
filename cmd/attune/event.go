package main

import (
	"encoding/json"
	"strconv"

	"github.com/spf13/cobra"
)

func (c *cli) eventCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "event", Aliases: []string{"events"}, Short: "Emit and inspect events"}
	var trigger string
	var limit int
	var asJSON bool
	list := &cobra.Command{
		Use: "list", Short: "List events, newest first", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkLimit(limit); err != nil {
				return err
			}
			return c.withApp(cmd.Context(), func(a *app) error {
				evs, err := a.db.AutoCommit().Events(cmd.Context(), trigger, limit)
				if err != nil {
					return err
				}
				if asJSON {
					return writeJSON(c.stdout, snakeJSON(evs))
				}
				rows := make([][]string, len(evs))
				for i, e := range evs {
					p, _ := json.Marshal(e.Payload)
					created := e.CreatedAt
					rows[i] = []string{strconv.FormatInt(e.ID, 10), e.TriggerRef, orDash(ptrStr(e.RuleID)), fmtTime(&created), clip(string(p), 80)}
				}
				return table(c.stdout, []string{"ID", "TRIGGER", "RULE ID", "CREATED", "PAYLOAD"}, rows)
			})
		},
	}
	list.Flags().StringVar(&trigger, "trigger", "", "only events of this trigger")
	list.Flags().IntVar(&limit, "limit", 20, "at most this many")
	list.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.AddCommand(list, c.eventGetCmd(), c.eventEmitCmd())
	return cmd
}
