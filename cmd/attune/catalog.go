package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/attune-run/attune"
)

// packListCmd is `attune pack list`.
func (c *cli) packListCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use: "list", Short: "List registered packs with their counts of actions, triggers and rules", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return c.withApp(cmd.Context(), func(a *app) error {
				ps, err := a.db.AutoCommit().Packs(cmd.Context())
				if err != nil {
					return err
				}
				if asJSON {
					return writeJSON(c.stdout, snakeJSON(ps))
				}
				rows := make([][]string, len(ps))
				for i, p := range ps {
					rows[i] = []string{p.Ref, p.Version, strconv.FormatInt(p.Actions, 10), strconv.FormatInt(p.Triggers, 10),
						strconv.FormatInt(p.Rules, 10), clip(orDash(p.Description), 60)}
				}
				return table(c.stdout, []string{"PACK", "VERSION", "ACTIONS", "TRIGGERS", "RULES", "DESCRIPTION"}, rows)
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// actionCmd is `attune action list` and `attune action get REF`.
func (c *cli) actionCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "action", Aliases: []string{"actions"}, Short: "List and show registered actions", RunE: groupRunE}
	var listJSON, getJSON bool
	list := &cobra.Command{
		Use: "list", Short: "List registered actions", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return c.withApp(cmd.Context(), func(a *app) error {
				as, err := a.db.AutoCommit().Actions(cmd.Context())
				if err != nil {
					return err
				}
				if listJSON {
					out := make([]map[string]any, len(as))
					for i, x := range as { // what the list knows; attune action get shows the rest
						out[i] = map[string]any{"ref": x.Ref, "pack_ref": x.PackRef, "label": x.Label,
							"description": x.Description, "runtime": x.Runtime, "entry_point": x.EntryPoint,
							"timeout_seconds": x.TimeoutSec}
					}
					return writeJSON(c.stdout, out)
				}
				rows := make([][]string, len(as))
				for i, x := range as {
					rows[i] = []string{x.Ref, x.Runtime, timeoutText(x), clip(orDash(x.Description), 60)}
				}
				return table(c.stdout, []string{"ACTION", "RUNTIME", "TIMEOUT", "DESCRIPTION"}, rows)
			})
		},
	}
	list.Flags().BoolVar(&listJSON, "json", false, "print JSON")
	get := &cobra.Command{
		Use: "get REF", Short: "Show an action: its runtime, entry point, timeout, retry policy and parameters", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.withApp(cmd.Context(), func(a *app) error {
				x, _, err := a.db.AutoCommit().Action(cmd.Context(), args[0])
				if errors.Is(err, attune.ErrNotFound) {
					return exitError{code: 2, msg: fmt.Sprintf("action %s is not registered; `attune action list` lists the actions", args[0])}
				}
				if err != nil {
					return err
				}
				if getJSON {
					return writeJSON(c.stdout, actionJSON(x))
				}
				printAction(c.stdout, x)
				return nil
			})
		},
	}
	get.Flags().BoolVar(&getJSON, "json", false, "print JSON")
	cmd.AddCommand(list, get)
	return cmd
}

// actionJSON is an action as --json prints it: everything but its entry point's content.
func actionJSON(x attune.Action) map[string]any {
	params := map[string]any{}
	for name, spec := range x.Parameters {
		params[name] = spec
	}
	var retry any
	if x.Retry != nil {
		retry = map[string]any{"count": x.Retry.Count, "delay": x.Retry.Delay.String(), "backoff": x.Retry.Backoff,
			"on": x.Retry.On}
	}
	return map[string]any{
		"ref": x.Ref, "pack_ref": x.PackRef, "label": x.Label, "description": x.Description, "runtime": x.Runtime,
		"entry_point": x.EntryPoint, "parameters": params, "output_format": x.OutputFormat,
		"parameter_format": x.ParameterFormat, "parameter_delivery": x.ParameterDelivery,
		"timeout_seconds": x.TimeoutSec, "retry": retry,
	}
}

// timeoutText is an action's timeout for people.
func timeoutText(x attune.Action) string {
	if x.TimeoutSec == 0 {
		return strconv.Itoa(attune.DefaultActionTimeoutSec) + "s (default)"
	}
	return strconv.Itoa(x.TimeoutSec) + "s"
}

// printAction shows one action for people.
func printAction(w io.Writer, x attune.Action) {
	retry := "-"
	if x.Retry != nil {
		retry = fmt.Sprintf("%d after %s, %s, on %v", x.Retry.Count, x.Retry.Delay, orDash(x.Retry.Backoff), x.Retry.On)
	}
	rows := [][]string{
		{"ref", x.Ref}, {"pack", x.PackRef}, {"label", orDash(x.Label)}, {"description", orDash(x.Description)},
		{"runtime", x.Runtime}, {"entry point", orDash(x.EntryPoint)}, {"timeout", timeoutText(x)}, {"retry", retry},
		{"parameters", orDash(x.ParameterDelivery) + " / " + orDash(x.ParameterFormat)}, {"output", orDash(x.OutputFormat)},
	}
	for _, r := range rows {
		fmt.Fprintf(w, "%-12s %s\n", r[0]+":", r[1])
	}
	fmt.Fprintln(w, strings.TrimRight(describeSchema(x), "\n"))
}

// ruleGetCmd is `attune rule get REF`.
func (c *cli) ruleGetCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use: "get REF", Short: "Show a rule: its trigger, criteria, action and parameters", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.withApp(cmd.Context(), func(a *app) error {
				r, err := a.db.AutoCommit().Rule(cmd.Context(), args[0])
				if errors.Is(err, attune.ErrNotFound) {
					return exitError{code: 2, msg: fmt.Sprintf("rule %s is not registered; `attune rule list` lists the rules", args[0])}
				}
				if err != nil {
					return err
				}
				if asJSON {
					return writeJSON(c.stdout, snakeJSON(r))
				}
				text := func(v any) string {
					b, _ := json.Marshal(v)
					return string(b)
				}
				criteria := string(r.Criteria)
				if criteria == "" || criteria == "null" {
					criteria = "- (matches every event)"
				}
				rows := [][]string{
					{"ref", r.Ref}, {"pack", r.PackRef}, {"label", orDash(r.Label)}, {"description", orDash(r.Description)},
					{"enabled", strconv.FormatBool(r.Enabled)}, {"trigger", r.TriggerRef},
					{"trigger params", text(r.TriggerParams)}, {"criteria", criteria}, {"action", r.ActionRef},
					{"action params", text(r.ActionParams)},
				}
				for _, row := range rows {
					fmt.Fprintf(c.stdout, "%-15s %s\n", row[0]+":", row[1])
				}
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// groupRunE is the RunE of a command group (attune pack, rule, action): help without arguments,
// and an error naming the subcommands for an unknown one, rather than help and exit code 0.
func groupRunE(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return cmd.Help()
	}
	var known []string
	for _, sub := range cmd.Commands() {
		if sub.IsAvailableCommand() {
			known = append(known, sub.Name())
		}
	}
	return exitError{code: 2, msg: fmt.Sprintf("unknown command %q for %q (known: %s)", args[0], cmd.CommandPath(), strings.Join(known, ", "))}
}
