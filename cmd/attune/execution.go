package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/db"
)

func (c *cli) executionCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "execution", Aliases: []string{"executions", "ex"}, Short: "Inspect, follow, cancel and re-run executions"}
	var f db.ExecutionFilter
	var status string
	var asJSON bool
	list := &cobra.Command{
		Use:   "list",
		Short: "List executions, newest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkLimit(f.Limit); err != nil {
				return err
			}
			f.Status = attune.ExecutionStatus(status)
			if status != "" && !f.Status.Valid() {
				return exitError{code: 2, msg: fmt.Sprintf("--status %q: must be one of %v", status, attune.ExecutionStatuses)}
			}
			return c.withApp(cmd.Context(), func(a *app) error {
				xs, err := a.db.AutoCommit().Executions(cmd.Context(), f)
				if err != nil {
					return err
				}
				if asJSON {
					out := make([]map[string]any, len(xs))
					for i, x := range xs {
						out[i] = executionJSON(x)
					}
					return writeJSON(c.stdout, out)
				}
				rows := make([][]string, len(xs))
				for i, x := range xs {
					rows[i] = []string{strconv.FormatInt(x.ID, 10), x.ActionRef, string(x.Status),
						fmtTime(&x.CreatedAt), fmtDuration(x.StartedAt, x.FinishedAt), orDash(x.Worker), clip(orDash(x.Error), 50)}
				}
				return table(c.stdout, []string{"ID", "ACTION", "STATUS", "CREATED", "DURATION", "WORKER", "ERROR"}, rows)
			})
		},
	}
	list.Flags().StringVar(&status, "status", "", "only executions in this status")
	list.Flags().StringVar(&f.ActionRef, "action", "", "only executions of this action ref")
	list.Flags().IntVar(&f.Limit, "limit", 20, "at most this many")
	list.Flags().BoolVar(&asJSON, "json", false, "print JSON")

	var getJSON bool
	get := &cobra.Command{
		Use:   "get ID",
		Short: "Show one execution with its result and status history (a workflow: its tasks as a tree)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := strconv.ParseInt(args[0], 10, 64)
			if err != nil {
				return exitError{code: 2, msg: fmt.Sprintf("execution id %q is not a number", args[0])}
			}
			return c.withApp(cmd.Context(), func(a *app) error {
				ctx := cmd.Context()
				det, err := a.db.AutoCommit().ExecutionDetail(ctx, id) // one round trip
				if err != nil {
					return err
				}
				x, hist, attempts := det.Execution, det.History, det.Attempts
				var tree []taskNode
				if x.Runtime == attune.RuntimeOrquesta {
					if tree, err = workflowTree(ctx, a.db.AutoCommit(), id, 0); err != nil {
						return err
					}
				}
				if getJSON {
					out := executionJSON(x)
					if x.Runtime == attune.RuntimeOrquesta {
						out["tasks"] = tree
					}
					out["history"] = snakeJSON(hist)
					all := make([]map[string]any, len(attempts))
					for i, at := range attempts {
						all[i] = map[string]any{"id": at.ID, "attempt": at.Attempt, "status": at.Status, "error": at.Error,
							"worker": at.Worker, "started_at": at.StartedAt, "finished_at": at.FinishedAt}
					}
					out["attempts"] = all
					return writeJSON(c.stdout, out)
				}
				if err := printExecution(c.stdout, x, hist); err != nil {
					return err
				}
				if x.Runtime == attune.RuntimeOrquesta {
					if err := printTree(c.stdout, tree); err != nil {
						return err
					}
				}
				if len(attempts) > 1 {
					fmt.Fprintln(c.stdout, "attempts:")
					rows := make([][]string, len(attempts))
					for i, at := range attempts {
						rows[i] = []string{"  " + strconv.Itoa(at.Attempt), strconv.FormatInt(at.ID, 10), string(at.Status),
							fmtTime(at.StartedAt), orDash(at.Error)}
					}
					return table(c.stdout, []string{"  ATTEMPT", "EXECUTION", "STATUS", "STARTED", "ERROR"}, rows)
				}
				return nil
			})
		},
	}
	get.Flags().BoolVar(&getJSON, "json", false, "print JSON")
	cmd.AddCommand(list, get, c.executionCancelCmd(), c.executionPauseCmd(), c.executionResumeCmd(), c.executionRerunCmd(), c.executionTailCmd())
	return cmd
}

// withApp opens the database for the duration of fn.
func (c *cli) withApp(ctx context.Context, fn func(a *app) error) error {
	a, err := c.open(ctx)
	if err != nil {
		return err
	}
	defer a.close()
	return fn(a)
}

func executionJSON(x attune.Execution) map[string]any {
	m := map[string]any{
		"id": x.ID, "action_ref": x.ActionRef, "runtime": x.Runtime, "enforcement_id": x.EnforcementID,
		"attempt": x.Attempt, "rerun_of": x.RerunOf, "status": x.Status, "parameters": x.Parameters, "error": x.Error,
		"worker": x.Worker, "timeout_seconds": x.TimeoutSec, "created_at": x.CreatedAt,
		"scheduled_at": x.ScheduledAt, "started_at": x.StartedAt, "finished_at": x.FinishedAt,
	}
	if len(x.Result) > 0 {
		m["result"] = x.Result
	} else {
		m["result"] = nil
	}
	if t := x.Parent; t != nil {
		m["parent"] = map[string]any{"id": t.ParentID, "task": t.Task, "route": t.Route, "item": t.Item, "retry": t.Retry}
	}
	return m
}

// printResult prints what a person wants to see of a finished run: the action's output.
func printResult(w io.Writer, x attune.Execution) {
	var r struct {
		Stdout string          `json:"stdout"`
		Stderr string          `json:"stderr"`
		Data   json.RawMessage `json:"data"`
	}
	_ = json.Unmarshal(x.Result, &r)
	switch {
	case len(r.Data) > 0 && string(r.Data) != "null":
		var v any
		_ = json.Unmarshal(r.Data, &v)
		_ = writeJSON(w, v)
	case r.Stdout != "":
		fmt.Fprint(w, r.Stdout)
		if r.Stdout[len(r.Stdout)-1] != '\n' {
			fmt.Fprintln(w)
		}
	}
	if x.Status != attune.StatusCompleted && r.Stderr != "" {
		fmt.Fprint(w, r.Stderr)
	}
}

func printExecution(w io.Writer, x attune.Execution, hist []attune.Transition) error {
	params, _ := json.Marshal(x.Parameters)
	rows := [][]string{
		{"id", strconv.FormatInt(x.ID, 10)}, {"action", x.ActionRef}, {"runtime", x.Runtime},
		{"status", string(x.Status)}, {"attempt", strconv.Itoa(x.Attempt)}, {"worker", orDash(x.Worker)},
		{"enforcement", orDash(ptrStr(x.EnforcementID))}, {"rerun of", orDash(ptrStr(x.RerunOf))}, {"parameters", string(params)},
		{"created", fmtTime(&x.CreatedAt)}, {"started", fmtTime(x.StartedAt)}, {"finished", fmtTime(x.FinishedAt)},
		{"duration", fmtDuration(x.StartedAt, x.FinishedAt)}, {"error", orDash(x.Error)},
	}
	if t := x.Parent; t != nil {
		where := fmt.Sprintf("workflow %d, task %s", t.ParentID, t.Task)
		if t.Route > 0 {
			where += "#" + strconv.Itoa(t.Route)
		}
		if t.Item >= 0 {
			where += fmt.Sprintf(", item %d", t.Item)
		}
		if t.Retry > 0 {
			where += fmt.Sprintf(", retry %d", t.Retry)
		}
		rows = append(rows[:3:3], append([][]string{{"parent", where}}, rows[3:]...)...)
	}
	for _, r := range rows {
		fmt.Fprintf(w, "%-12s %s\n", r[0]+":", r[1])
	}
	if len(x.Result) > 0 {
		var v any
		_ = json.Unmarshal(x.Result, &v)
		b, _ := json.MarshalIndent(v, "  ", "  ")
		fmt.Fprintf(w, "result:\n  %s\n", b)
	}
	if x.Status == attune.StatusPending {
		fmt.Fprintf(w, "waiting for an answer to inquiry %d: attune inquiry get %d\n", x.ID, x.ID)
	}
	fmt.Fprintln(w, "history:")
	hrows := make([][]string, len(hist))
	for i, t := range hist {
		at := t.At
		hrows[i] = []string{"  " + fmtTime(&at), orDash(string(t.From)) + " -> " + string(t.To), orDash(t.Worker), orDash(t.Reason)}
	}
	return table(w, []string{"  AT", "TRANSITION", "WORKER", "REASON"}, hrows)
}

func ptrStr(p *int64) string {
	if p == nil {
		return ""
	}
	return strconv.FormatInt(*p, 10)
}
