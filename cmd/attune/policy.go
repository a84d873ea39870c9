package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/attune-run/attune"
)

// policyJSON is a concurrency policy as `attune policy list --json` prints it.
type policyJSON struct {
	Ref        string   `json:"ref"`
	Action     string   `json:"action"`
	Type       string   `json:"policy_type"`
	Threshold  int      `json:"threshold"`
	OnFull     string   `json:"action_when_full"`
	Attributes []string `json:"attributes"`
	InUse      int      `json:"slots_in_use"`
	Waiting    int      `json:"waiting"`
}

func policyRows(ps []attune.Policy) []policyJSON {
	out := make([]policyJSON, len(ps))
	for i, p := range ps {
		out[i] = policyJSON{Ref: p.Ref, Action: p.ActionRef, Type: p.Type, Threshold: p.Threshold, OnFull: p.OnFull,
			Attributes: p.Attributes, InUse: p.Held, Waiting: p.Waiting}
	}
	return out
}

func (c *cli) policyCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "policy", Aliases: []string{"policies"}, Short: "Show action concurrency policies"}
	var asJSON bool
	list := &cobra.Command{
		Use: "list", Short: "List policies with their slots in use and their waiters", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return c.withApp(cmd.Context(), func(a *app) error {
				ps, err := a.db.AutoCommit().Policies(cmd.Context())
				if err != nil {
					return err
				}
				if asJSON {
					return writeJSON(c.stdout, policyRows(ps))
				}
				rows := make([][]string, len(ps))
				for i, p := range ps {
					kind := p.Type
					if len(p.Attributes) > 0 {
						kind += " [" + strings.Join(p.Attributes, ",") + "]"
					}
					rows[i] = []string{p.Ref, p.ActionRef, kind, p.OnFull,
						fmt.Sprintf("%d/%d", p.Held, p.Threshold), strconv.Itoa(p.Waiting)}
				}
				return table(c.stdout, []string{"POLICY", "ACTION", "TYPE", "WHEN FULL", "IN USE", "WAITING"}, rows)
			})
		},
	}
	list.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.AddCommand(list)
	return cmd
}

// printPolicyWaiters adds the policies that have waiters to attune status.
func printPolicyWaiters(w io.Writer, ps []attune.Policy) error {
	var rows [][]string
	for _, p := range ps {
		if p.Waiting > 0 {
			rows = append(rows, []string{p.Ref, p.ActionRef, fmt.Sprintf("%d/%d", p.Held, p.Threshold), strconv.Itoa(p.Waiting)})
		}
	}
	if len(rows) == 0 {
		return nil
	}
	fmt.Fprintln(w, "\nWAITING FOR A POLICY SLOT")
	return table(w, []string{"POLICY", "ACTION", "IN USE", "WAITING"}, rows)
}
