package jobs

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/db"
	attuneparams "github.com/attune-run/attune/params"
	"github.com/attune-run/attune/rules"
	"github.com/attune-run/attune/runtimes"
	"github.com/attune-run/attune/secrets"
)

// Pipeline holds what the pipeline steps share: the database, the River client they insert the
// next job with, the runtimes, and this replica's name. Build it with New; its fields are read,
// never assigned, after that.
type Pipeline struct {
	DB       *db.DB
	River    *river.Client[pgx.Tx] // steps insert with InsertTx (see Config.River)
	Runtimes *runtimes.Set
	Worker   string // this replica's name, recorded on the executions it runs
	Log      *slog.Logger
	Now      func() time.Time

	criteria rules.CriteriaCache // each rule's compiled criteria, reused across events

	// RescueAfter is how long a dispatch job may run before River's rescuer presumes its
	// worker lost (River's RescueStuckJobsAfter). An action's timeout plus KillGrace must fit
	// inside it, or a live action would be declared abandoned; zero disables the check.
	RescueAfter time.Duration
	// KillGrace is the runtimes' SIGTERM-to-SIGKILL grace.
	KillGrace time.Duration
	// Secrets seals secret parameters before they are stored and opens them just before an
	// action runs (secrets.key). Nil: an action given a secret parameter is refused.
	Secrets *secrets.Box
	// OutputCap is how many bytes of each of stdout and stderr are stored as live output
	// (runtimes.output_cap); 0 means the runtimes' default.
	OutputCap int

	// MaxTaskRuns is workflows.max_task_runs: task runs one workflow may start before it is
	// failed as a runaway loop; 0 means DefaultMaxTaskRuns.
	MaxTaskRuns int

	// BatchSize is pipeline.batch_size: how many concurrent jobs of one kind (event processing;
	// dispatch claims and outcomes) at most share one transaction, see groupCommit. 0 means
	// DefaultBatchSize; 1 gives every step its own transaction.
	BatchSize int

	running runningSet // the executions this replica runs, for WatchCancels
	groups  groups     // the group commits of BatchSize, made on first use
}

// JobTimeout is the River job timeout of a dispatch: the rescue window less a margin, so River
// cancels a run that outlives every action timeout before its rescuer would hand it elsewhere.
func (p *Pipeline) JobTimeout() time.Duration {
	if p.RescueAfter <= 0 {
		return -1 // the runtimes' own timeout bounds every run
	}
	return p.RescueAfter - rescueMargin/2
}

// rescueMargin separates an action's longest run (timeout + kill grace) from the rescue window.
const rescueMargin = 20 * time.Second

// checkTimeout rejects an execution timeout that the rescue window cannot cover.
func (p *Pipeline) checkTimeout(ref string, timeoutSec int) error {
	if p.RescueAfter <= 0 {
		return nil
	}
	longest := time.Duration(timeoutSec)*time.Second + p.KillGrace + rescueMargin
	if longest > p.RescueAfter {
		return fmt.Errorf("%w: action %s has a timeout of %ds, which with the kill grace (%s) does not fit in worker.rescue_after (%s): raise worker.rescue_after to at least %s or lower the timeout",
			attune.ErrInvalid, ref, timeoutSec, p.KillGrace, p.RescueAfter, longest)
	}
	return nil
}

func (p *Pipeline) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

// EnforceResult is what one rule did with one event.
type EnforceResult struct {
	Enforcement attune.Enforcement
	Execution   *attune.Execution // nil when the enforcement failed or was already done
}

// Enforce applies one matched rule to an event, in the caller's transaction: it renders the
// action parameters, applies the action's defaults and validates them, records the enforcement
// and, when all that succeeded, schedules the execution with its dispatch job. Otherwise the
// enforcement is failed with the reason and no execution is created. A rule that already
// enforced the event returns attune.ErrConflict and changes nothing.
func (p *Pipeline) Enforce(ctx context.Context, q *db.Queries, ev attune.Event, rule attune.Rule) (EnforceResult, error) {
	var res EnforceResult
	action, actionID, packConfig, err := q.ActionForRule(ctx, rule.ActionRef, rule.PackRef)
	if err != nil {
		return res, fmt.Errorf("rule %s: %w", rule.Ref, err)
	}
	// A secret key reaches an action only through a parameter marked secret: checked at
	// registration, and again here, against the action as it is now.
	renderErr := rules.CheckSecretParams(rule.ActionParams, action.Parameters)
	var params map[string]any
	if renderErr == nil {
		kv := p.kvReader(ctx, q)
		params, renderErr = rules.Render(rule.ActionParams, rules.NewEnv(ev, rule, packConfig, p.now()).WithKV(kv))
		if kv.err != nil {
			return res, fmt.Errorf("rule %s: read the datastore: %w", rule.Ref, kv.err)
		}
		if renderErr == nil {
			renderErr = attuneparams.CheckDepth("action_params", params, attune.MaxNestingDepth)
		}
	}
	var prep prepared
	if renderErr == nil {
		prep, renderErr = p.prepareST2(ctx, q, action, params) // defaults, validation, secrets sealed
	}
	if renderErr == nil {
		renderErr = p.checkTimeout(action.Ref, cmp.Or(action.TimeoutSec, attune.DefaultActionTimeoutSec))
	}
	enf := db.NewEnforcement{Rule: rule, EventID: ev.ID, Status: attune.EnforcementProcessed, Parameters: prep.stored}
	if renderErr != nil {
		enf.Status, enf.Reason, enf.Parameters = attune.EnforcementFailed, renderErr.Error(), nil
		res.Enforcement, err = q.EnforcementInsert(ctx, enf)
		if err != nil {
			return res, err
		}
		p.Log.Warn("enforcement failed", "rule", rule.Ref, "event_id", ev.ID, "error", renderErr)
		return res, nil
	}
	// The enforcement, the execution and its history row are one statement.
	x, err := p.schedule(ctx, q, db.NewExecution{
		Action: action, ActionID: actionID, Enforcement: &enf, Parameters: prep.stored, Secrets: prep.sealed,
	})
	if err != nil {
		return res, err
	}
	res.Enforcement = attune.Enforcement{
		ID: *x.EnforcementID, RuleID: &rule.ID, RuleRef: rule.Ref, EventID: ev.ID,
		Status: enf.Status, Parameters: enf.Parameters, CreatedAt: x.CreatedAt,
	}
	res.Execution = &x
	return res, nil
}

// Run schedules an execution of an action by hand (attune run), with its dispatch job, in one
// transaction. timeout overrides the action's timeout when positive. The action's defaults are
// applied and the parameters validated first: invalid ones are an error holding
// params.FieldErrors, which wraps attune.ErrInvalid, and nothing is written. Parameters nested
// deeper than attune.MaxNestingDepth are an error wrapping attune.ErrInvalid.
func (p *Pipeline) Run(ctx context.Context, actionRef string, params map[string]any, timeout time.Duration) (attune.Execution, error) {
	var x attune.Execution
	if err := attuneparams.CheckDepth("parameters", params, attune.MaxNestingDepth); err != nil {
		return x, err
	}
	err := p.DB.InTx(ctx, func(q *db.Queries) error {
		action, actionID, err := q.Action(ctx, actionRef)
		if err != nil {
			return err
		}
		n := db.NewExecution{Action: action, ActionID: actionID}
		if timeout > 0 {
			n.TimeoutSec = max(1, int((timeout+time.Second-1)/time.Second))
		}
		x, err = p.runTx(ctx, q, n, params)
		return err
	})
	return x, err
}

// runTx validates params for n.Action (defaults, schema, secrets sealed) and schedules n with
// them, in q's transaction: the part of Run that Rerun shares.
func (p *Pipeline) runTx(ctx context.Context, q *db.Queries, n db.NewExecution, params map[string]any) (attune.Execution, error) {
	prep, err := p.prepareST2(ctx, q, n.Action, params)
	if err != nil {
		return attune.Execution{}, err
	}
	n.Parameters, n.Secrets = prep.stored, prep.sealed
	return p.schedule(ctx, q, n)
}

// schedule records a scheduled execution and inserts its dispatch job, on its runtime's queue.
func (p *Pipeline) schedule(ctx context.Context, q *db.Queries, n db.NewExecution) (attune.Execution, error) {
	return p.scheduleAt(ctx, q, n, time.Time{})
}

// scheduleAt is schedule with the dispatch job held until at (zero: now).
func (p *Pipeline) scheduleAt(ctx context.Context, q *db.Queries, n db.NewExecution, at time.Time) (attune.Execution, error) {
	timeout := n.TimeoutSec
	if timeout <= 0 {
		timeout = cmp.Or(n.Action.TimeoutSec, attune.DefaultActionTimeoutSec)
	}
	if n.Action.Runtime == attune.RuntimeOrquesta {
		timeout = 0 // a workflow runs on no worker: the rescue window does not bound it
	}
	if err := p.checkTimeout(n.Action.Ref, timeout); err != nil {
		return attune.Execution{}, err
	}
	adm, err := p.admission(ctx, q, n)
	if err != nil {
		return attune.Execution{}, err
	}
	if adm.state == admitWait || adm.state == admitCancel {
		n.Status = attune.StatusRequested
	}
	x, err := q.ExecutionCreate(ctx, n)
	if err != nil {
		return x, err
	}
	if adm.state != admitNoPolicy {
		return p.admitted(ctx, q, x, adm, at)
	}
	return x, p.insertDispatch(ctx, q, x, at)
}

// insertDispatch inserts the dispatch job of a scheduled execution, on its runtime's queue, held
// until at (zero: now). A workflow is not dispatched: it starts here, in the same transaction
// (at is not waited for).
func (p *Pipeline) insertDispatch(ctx context.Context, q *db.Queries, x attune.Execution, at time.Time) error {
	if x.Runtime == attune.RuntimeOrquesta {
		return p.startWorkflow(ctx, q, x)
	}
	_, err := p.River.InsertTx(ctx, q.Tx(), ExecutionDispatchArgs{ExecutionID: x.ID}, &river.InsertOpts{
		Queue: RuntimeQueue(x.Runtime), UniqueOpts: unique, MaxAttempts: dispatchMaxAttempts,
		ScheduledAt: at,
	})
	if err != nil {
		return fmt.Errorf("insert dispatch of execution %d: %w", x.ID, err)
	}
	return nil
}

// ProcessEvent matches an event against the enabled rules of its trigger (or only its target
// rule) and enforces each match, in the caller's transaction. Every rule considered gets its
// outcome recorded (matched, not matched with the criterion that failed, or error), so
// `attune event get` can say why a rule did not fire. A rule that fails does not stop the
// others; its failure is recorded on its outcome or its enforcement.
func (p *Pipeline) ProcessEvent(ctx context.Context, q *db.Queries, ev attune.Event) error {
	var candidates []attune.Rule
	if ev.RuleID != nil {
		r, err := q.RuleByID(ctx, *ev.RuleID)
		if errors.Is(err, attune.ErrNotFound) {
			return nil // the rule was deleted: an event targeted at it matches nothing else
		}
		if err != nil {
			return err
		}
		if r.Enabled {
			candidates = append(candidates, r)
		}
	} else {
		var err error
		if candidates, err = q.RulesForTrigger(ctx, ev.TriggerRef); err != nil {
			return err
		}
	}
	return p.ProcessEventRules(ctx, q, ev, candidates)
}

// ProcessEventRules is ProcessEvent given the rules the event is for, as
// db.Queries.EventWithRules reads them with the event in one round trip.
func (p *Pipeline) ProcessEventRules(ctx context.Context, q *db.Queries, ev attune.Event, candidates []attune.Rule) error {
	if ev.RuleID == nil && ev.TriggerRef == attune.TriggerWebhook {
		candidates = webhookRules(candidates, ev)
	}
	configs := map[string]map[string]any{} // pack configs, by pack ref
	for _, rule := range candidates {
		if err := p.considerRule(ctx, q, ev, rule, configs); err != nil {
			return err
		}
	}
	return nil
}

// EmitEvent records an event and its processing job in one transaction. A payload nested
// deeper than attune.MaxNestingDepth or larger than attune.MaxPayloadBytes is an error wrapping
// attune.ErrInvalid, and nothing is written.
func (p *Pipeline) EmitEvent(ctx context.Context, e db.NewEvent) (attune.Event, error) {
	var ev attune.Event
	if err := attuneparams.CheckPayload(e.Payload); err != nil {
		return ev, fmt.Errorf("event on %s: %w", e.TriggerRef, err)
	}
	err := p.DB.InTx(ctx, func(q *db.Queries) error {
		var err error
		if ev, err = q.EventInsert(ctx, e); err != nil {
			return err
		}
		_, err = p.River.InsertTx(ctx, q.Tx(), EventProcessArgs{EventID: ev.ID}, nil)
		return err
	})
	return ev, err
}

// webhookRules keeps the rules listening on the webhook a core.webhook event came from: those
// whose trigger_params.url is the payload's webhook.
func webhookRules(rules []attune.Rule, ev attune.Event) []attune.Rule {
	name, _ := ev.Payload["webhook"].(string)
	var out []attune.Rule
	for _, r := range rules {
		if url, _ := r.TriggerParams["url"].(string); url != "" && url == name {
			out = append(out, r)
		}
	}
	return out
}
