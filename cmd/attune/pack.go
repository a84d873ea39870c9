package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/attune-run/attune/packs"
)

func (c *cli) packCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "pack", Aliases: []string{"packs"}, Short: "Register packs"}
	cmd.AddCommand(&cobra.Command{
		Use:   "register DIR",
		Short: "Validate and register (upsert) the pack in DIR",
		Long: `Validate the pack in DIR and register it: its actions, triggers and rules are created or
updated, and the ones that vanished from the pack are removed (their timers stop). When the pack
has errors, every error is listed as file:line: message and nothing changes.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := packs.LoadDir(args[0], time.Now())
			if err != nil {
				return exitError{code: 2, msg: fmt.Sprintf("pack %s is not valid; nothing was registered:\n%v", args[0], err)}
			}
			return c.withApp(cmd.Context(), func(a *app) error {
				if err := a.build(nil); err != nil {
					return err
				}
				reg, err := a.timers.RegisterPack(cmd.Context(), p)
				if err != nil {
					return fmt.Errorf("register pack %s: %w (nothing was changed)", p.Ref, err)
				}
				fmt.Fprintf(c.stdout, "registered pack %s %s: %d actions, %d triggers, %d rules",
					p.Ref, p.Version, len(p.Actions), len(p.Triggers), len(reg.Rules))
				if n := len(reg.RemovedRules); n > 0 {
					fmt.Fprintf(c.stdout, ", %d rules removed", n)
				}
				fmt.Fprintln(c.stdout)
				return nil
			})
		},
	})
	return cmd
}
