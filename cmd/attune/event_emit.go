package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/db"
	"github.com/attune-run/attune/params"
)

func (c *cli) eventEmitCmd() *cobra.Command {
	var o emitOptions
	var payload string
	cmd := &cobra.Command{
		Use:   "emit TRIGGER [key=value | key:=json]... [--payload JSON]",
		Short: "Record an event on a trigger and have its rules process it",
		Long: `Record an event on a trigger, and its processing job, in one transaction: the entry point webhooks
use. The payload is --payload (a JSON object), then each argument: as in httpie and attune run,
key=value sets a string and key:=JSON a raw JSON value (count:=7, 'tags:=["a"]').

When no replica runs the rules role, attune event emit processes the event itself and prints what
every rule made of it (as attune event get does). With --wait it also waits for the executions the
event started, running them here when no worker replica is alive, and exits 1 when a rule failed
to evaluate, an enforcement failed or an execution did not complete.`,
		Example: `  attune event emit acme.alert level=error count:=7
  attune event emit acme.alert --payload '{"host": {"name": "web-01"}}' 'tags:=["prod"]'
  attune event emit --wait acme.alert level=error`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.timeout <= 0 {
				return exitError{code: 2, msg: fmt.Sprintf("--timeout %s: must be positive (how long to wait for processing)", o.timeout)}
			}
			p, err := emitPayload(payload, args[1:])
			if err == nil {
				err = params.CheckPayload(p)
			}
			if err != nil {
				return exitError{code: 2, msg: err.Error()}
			}
			return c.emit(cmd.Context(), args[0], p, o)
		},
	}
	cmd.Flags().StringVar(&payload, "payload", "", "the payload as a JSON object; key=value arguments are added to it")
	cmd.Flags().BoolVar(&o.wait, "wait", false, "wait for the executions the event starts and print them")
	cmd.Flags().DurationVar(&o.timeout, "timeout", 5*time.Minute, "how long to wait for processing and, with --wait, the executions")
	cmd.Flags().BoolVar(&o.asJSON, "json", false, "print JSON")
	return cmd
}

// emitOptions are the flags of attune event emit.
type emitOptions struct {
	wait    bool
	timeout time.Duration
	asJSON  bool
}

// emitPayload builds an event payload from --payload and httpie-style arguments, which win.
func emitPayload(payload string, args []string) (map[string]any, error) {
	out := map[string]any{}
	if payload != "" {
		if err := json.Unmarshal([]byte(payload), &out); err != nil || out == nil {
			return nil, fmt.Errorf("--payload must be a JSON object such as '{\"level\": \"error\"}': %s", jsonProblem(err))
		}
	}
	kv, err := parseParams(args)
	if err != nil {
		return nil, err
	}
	maps.Copy(out, kv)
	return out, nil
}

// jsonProblem describes why a --payload is not a JSON object.
func jsonProblem(err error) string {
	if err == nil {
		return "got null"
	}
	return err.Error()
}

// emit records the event and, as needed, processes it here and waits for what it started.
func (c *cli) emit(ctx context.Context, trigger string, payload map[string]any, o emitOptions) error {
	a, err := c.open(ctx)
	if err != nil {
		return err
	}
	defer a.close()
	ok, err := a.db.AutoCommit().TriggerExists(ctx, trigger)
	if err != nil {
		return err
	}
	if !ok {
		return exitError{code: 2, msg: fmt.Sprintf("trigger %s is not registered; `attune pack register DIR` registers the pack that defines it", trigger)}
	}
	if attune.IsTimerTrigger(trigger) {
		return exitError{code: 2, msg: fmt.Sprintf("%s is a timer trigger: each timer rule fires its own events; emit on a trigger your pack defines (triggers/*.yaml)", trigger)}
	}
	rulesLive, err := a.liveReplica(ctx, RoleRules)
	if err != nil {
		return err
	}
	workersLive, err := a.liveReplica(ctx, RoleWorkers)
	if err != nil {
		return err
	}
	var roles []string // what this process works for the duration: what no replica does
	if !rulesLive {
		roles = append(roles, RoleRules)
	}
	if o.wait && !workersLive {
		roles = append(roles, RoleWorkers)
	}
	if err := a.build(roles); err != nil {
		return err
	}
	if len(roles) > 0 {
		if err := a.engine.Start(ctx); err != nil {
			return err
		}
		defer a.stopEngine()
	}
	ev, err := a.p.EmitEvent(ctx, db.NewEvent{TriggerRef: trigger, Payload: payload})
	if err != nil {
		return err
	}
	if rulesLive && !o.wait {
		return c.printEmitted(ev.ID, o.asJSON)
	}
	w := emitWaiter{a: a, id: ev.ID, deadline: time.Now().Add(o.timeout)}
	if err := w.processed(ctx); err != nil {
		return err
	}
	if o.wait {
		if err := w.executionsDone(ctx); err != nil {
			return err
		}
	}
	r, err := loadEventReport(ctx, a.db.AutoCommit(), ev.ID)
	if err != nil {
		return err
	}
	if err := c.printReport(r, o.asJSON); err != nil {
		return err
	}
	if !o.wait {
		if !workersLive && r.pending() > 0 {
			c.note("no worker replica is running: the executions wait for `attune start` (or emit with --wait to run them here)")
		}
		return nil
	}
	if msg := r.failure(); msg != "" {
		return exitError{code: 1, msg: msg}
	}
	return nil
}

// printEmitted says where to look for an event that another replica processes.
func (c *cli) printEmitted(id int64, asJSON bool) error {
	if asJSON {
		return writeJSON(c.stdout, map[string]any{"id": id})
	}
	fmt.Fprintf(c.stdout, "event %d emitted; `attune event get %d` shows what its rules made of it\n", id, id)
	return nil
}

func (c *cli) printReport(r eventReport, asJSON bool) error {
	if asJSON {
		return writeJSON(c.stdout, r)
	}
	return r.print(c.stdout)
}

// note writes a hint for people to stderr, so stdout stays the report.
func (c *cli) note(msg string) {
	fmt.Fprintln(os.Stderr, "attune:", msg)
}

// emitWaiter polls an emitted event until it is processed and its executions are done.
type emitWaiter struct {
	a        *app
	id       int64
	deadline time.Time
}

// errWaitTimeout ends a wait that outlived --timeout.
var errWaitTimeout = errors.New("timed out")

// processed waits for the event's processing job to finish.
func (w emitWaiter) processed(ctx context.Context) error {
	var job db.EventJob
	err := w.poll(ctx, func() (bool, error) {
		var err error
		job, err = w.a.db.AutoCommit().EventProcessJob(ctx, w.id)
		return !job.Found || job.Processed(), err
	})
	switch {
	case errors.Is(err, errWaitTimeout):
		msg := fmt.Sprintf("event %d is not processed yet (its job is %s", w.id, job.State)
		if job.LastError != "" {
			msg += ", last error: " + job.LastError
		}
		return exitError{code: 1, msg: msg + "); `attune event get " + fmt.Sprint(w.id) + "` shows it later"}
	case err != nil:
		return err
	case job.Found && job.State != "completed":
		return exitError{code: 1, msg: fmt.Sprintf("processing event %d failed (%s): %s", w.id, job.State, job.LastError)}
	}
	return nil
}

// executionsDone waits for every execution the event started to finish.
func (w emitWaiter) executionsDone(ctx context.Context) error {
	err := w.poll(ctx, func() (bool, error) {
		xs, err := w.a.db.AutoCommit().ExecutionsByEvent(ctx, w.id)
		if err != nil {
			return false, err
		}
		for _, x := range xs {
			if !x.Status.Terminal() {
				return false, nil
			}
		}
		return true, nil
	})
	if errors.Is(err, errWaitTimeout) {
		return exitError{code: 1, msg: fmt.Sprintf("the executions of event %d are still running; `attune event get %d` shows them later", w.id, w.id)}
	}
	return err
}

// poll calls done until it reports true, the deadline passes or ctx ends.
func (w emitWaiter) poll(ctx context.Context, done func() (bool, error)) error {
	for {
		ok, err := done()
		if err != nil || ok {
			return err
		}
		if time.Now().After(w.deadline) {
			return errWaitTimeout
		}
		select {
		case <-ctx.Done():
			return exitError{code: 130, msg: fmt.Sprintf("interrupted; event %d goes on (attune event get %d)", w.id, w.id)}
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// pending counts the executions that have not finished.
func (r eventReport) pending() int {
	n := 0
	for _, rr := range r.Rules {
		for _, x := range rr.Executions {
			if !attune.ExecutionStatus(x.Status).Terminal() {
				n++
			}
		}
	}
	return n
}

// failure describes the first thing that went wrong for an emitted event: a rule that could not
// be evaluated, a failed enforcement, or an execution that did not complete; "" when none did.
func (r eventReport) failure() string {
	for _, rr := range r.Rules {
		switch {
		case rr.Outcome == string(attune.OutcomeError):
			return fmt.Sprintf("event %d: rule %s: %s", r.ID, rr.RuleRef, rr.Reason)
		case rr.Enforcement != nil && rr.Enforcement.Status == string(attune.EnforcementFailed):
			return fmt.Sprintf("event %d: rule %s: enforcement failed: %s", r.ID, rr.RuleRef, rr.Enforcement.Reason)
		}
		if n := len(rr.Executions); n > 0 { // the last attempt decides
			if x := rr.Executions[n-1]; x.Status != string(attune.StatusCompleted) {
				return fmt.Sprintf("event %d: rule %s: execution %d %s: %s", r.ID, rr.RuleRef, x.ID, x.Status, x.Error)
			}
		}
	}
	return ""
}
