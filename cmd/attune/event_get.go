package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/db"
)

func (c *cli) eventGetCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "get ID",
		Short: "Show an event, and what every rule made of it: why it matched or did not, its enforcement and execution",
		Long: `Show an event, its payload, and for every rule considered for it: whether it matched, and if not
which criterion failed and the value it saw (or why its criteria could not be evaluated); for a
rule that matched, its enforcement (failed with the reason, when its parameters could not be
rendered) and the execution it started.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := strconv.ParseInt(args[0], 10, 64)
			if err != nil {
				return exitError{code: 2, msg: fmt.Sprintf("event id %q is not a number; `attune event list` shows the ids", args[0])}
			}
			return c.withApp(cmd.Context(), func(a *app) error {
				r, err := loadEventReport(cmd.Context(), a.db.AutoCommit(), id)
				if err != nil {
					return err
				}
				if asJSON {
					return writeJSON(c.stdout, r)
				}
				return r.print(c.stdout)
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// eventReport is an event with what its rules made of it, as `attune event get` shows it.
type eventReport struct {
	ID         int64          `json:"id"`
	TriggerRef string         `json:"trigger_ref"`
	RuleID     *int64         `json:"rule_id"` // the rule a timer event targets
	Payload    map[string]any `json:"payload"`
	CreatedAt  time.Time      `json:"created_at"`
	// Processing is the state of the event's processing job (River's: available, running,
	// retryable, completed, …), "unknown" once River has cleaned the finished job up.
	Processing string       `json:"processing"`
	Error      string       `json:"processing_error,omitempty"` // the last failed attempt's error
	Rules      []ruleReport `json:"rules"`
}

// ruleReport is what one rule made of the event.
type ruleReport struct {
	RuleRef     string             `json:"rule_ref"`
	RuleID      *int64             `json:"rule_id"`
	Outcome     string             `json:"outcome"` // matched, not_matched or error
	Reason      string             `json:"reason"`
	Enforcement *enforcementReport `json:"enforcement"`
	Executions  []executionReport  `json:"executions"`
}

type enforcementReport struct {
	ID     int64  `json:"id"`
	Status string `json:"status"`
	Reason string `json:"reason"`
}

type executionReport struct {
	ID        int64  `json:"id"`
	ActionRef string `json:"action_ref"`
	Attempt   int    `json:"attempt"`
	Status    string `json:"status"`
	Error     string `json:"error"`
}

// loadEventReport reads an event and what its rules made of it (db.Queries.EventReport), in
// the shape `attune event get` prints.
func loadEventReport(ctx context.Context, q *db.Queries, id int64) (eventReport, error) {
	rep, err := q.EventReport(ctx, id)
	if err != nil {
		return eventReport{}, err
	}
	ev := rep.Event
	r := eventReport{ID: ev.ID, TriggerRef: ev.TriggerRef, RuleID: ev.RuleID, Payload: ev.Payload,
		CreatedAt: ev.CreatedAt, Processing: rep.Processing, Error: rep.Error, Rules: make([]ruleReport, len(rep.Rules))}
	for i, rr := range rep.Rules {
		r.Rules[i] = ruleReport{RuleRef: rr.RuleRef, RuleID: rr.RuleID, Outcome: string(rr.Outcome), Reason: rr.Reason,
			Executions: make([]executionReport, len(rr.Executions))}
		if n := rr.Enforcement; n != nil {
			r.Rules[i].Enforcement = &enforcementReport{ID: n.ID, Status: string(n.Status), Reason: n.Reason}
		}
		for j, x := range rr.Executions {
			r.Rules[i].Executions[j] = executionReport{ID: x.ID, ActionRef: x.ActionRef, Attempt: x.Attempt,
				Status: string(x.Status), Error: x.Error}
		}
	}
	return r, nil
}

// print writes the report for people.
func (r eventReport) print(w io.Writer) error {
	payload, err := json.Marshal(r.Payload)
	if err != nil {
		return err
	}
	created := r.CreatedAt
	processing := r.Processing
	if r.Error != "" {
		processing += ": " + r.Error
	}
	for _, row := range [][]string{
		{"id", strconv.FormatInt(r.ID, 10)}, {"trigger", r.TriggerRef}, {"rule", orDash(ptrStr(r.RuleID))},
		{"created", fmtTime(&created)}, {"processing", processing}, {"payload", string(payload)},
	} {
		fmt.Fprintf(w, "%-11s %s\n", row[0]+":", row[1])
	}
	if len(r.Rules) == 0 {
		switch r.Processing {
		case "completed", "unknown":
			fmt.Fprintf(w, "rules:      none: no enabled rule on %s\n", r.TriggerRef)
		case "failed":
			fmt.Fprintln(w, "rules:      none evaluated")
		default:
			fmt.Fprintln(w, "rules:      not processed yet")
		}
		return nil
	}
	fmt.Fprintln(w, "rules:")
	width := 0
	for _, rr := range r.Rules {
		width = max(width, len(rr.RuleRef))
	}
	for _, rr := range r.Rules {
		fmt.Fprintf(w, "  %-*s  %s\n", width, rr.RuleRef, rr.describe())
		indent := strings.Repeat(" ", width+4)
		if n := rr.Enforcement; n != nil {
			line := fmt.Sprintf("enforcement %d %s", n.ID, n.Status)
			if n.Reason != "" {
				line += ": " + n.Reason
			}
			fmt.Fprintf(w, "%s%s\n", indent, line)
		}
		for _, x := range rr.Executions {
			line := fmt.Sprintf("execution %d %s (%s", x.ID, x.Status, x.ActionRef)
			if x.Attempt > 1 {
				line += fmt.Sprintf(", attempt %d", x.Attempt)
			}
			line += ")"
			if x.Error != "" {
				line += ": " + x.Error
			}
			fmt.Fprintf(w, "%s%s\n", indent, line)
		}
	}
	return nil
}

// describe says what the rule made of the event, in words.
func (rr ruleReport) describe() string {
	switch attune.MatchOutcome(rr.Outcome) {
	case attune.OutcomeMatched:
		return "matched"
	case attune.OutcomeNotMatched:
		return "did not match: " + rr.Reason
	case attune.OutcomeError:
		return "error: " + rr.Reason
	}
	return rr.Outcome
}
