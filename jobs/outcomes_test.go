package jobs_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/db"
	"github.com/attune-run/attune/internal/attunetest"
	"github.com/attune-run/attune/packs"
)

// Every rule considered for an event gets its outcome recorded in the transaction that processes
// it: matched (with its enforcement), not matched with the criterion and the value it saw, or
// error; a matched rule whose template reads a missing field fails its enforcement with a reason
// naming the path and creates no execution; a redelivered event records nothing twice.
func TestProcessEventRecordsEveryRuleOutcome(t *testing.T) {
	t.Parallel()
	e := attunetest.New(t, attunetest.Options{NoStart: true})
	ctx := context.Background()
	dir := attunetest.WritePack(t, map[string]string{
		"pack.yaml":           "ref: why\nversion: 1.0.0\nconfig: {min_count: 3}\n",
		"triggers/alert.yaml": "ref: alert\n",
		"actions/show.yaml":   "ref: show\nrunner_type: noop\nparameters:\n  text: {type: string}\n",
		"rules/a_matches.yaml": `ref: a_matches
trigger_ref: alert
action_ref: show
criteria: {trigger.level: {type: equals, pattern: error}}
action_params: {text: "{{ event.payload.host }}"}
`,
		"rules/b_level.yaml": `ref: b_level
trigger_ref: alert
action_ref: show
criteria: [{field: level, operator: equals, value: info}]
`,
		"rules/c_expression.yaml": `ref: c_expression
trigger_ref: alert
action_ref: show
criteria: {expression: "event.payload.count > pack.config.min_count"}
`,
		"rules/d_error.yaml": `ref: d_error
trigger_ref: alert
action_ref: show
criteria: {expression: "event.payload.host > 3"}
`,
		"rules/e_missing.yaml": `ref: e_missing
trigger_ref: alert
action_ref: show
conditions: [{field: level, operator: eq, value: error}]
action_params: {text: "{{ event.payload.user_email }}"}
`,
	})
	p, err := packs.LoadDir(dir, time.Now())
	require.NoError(t, err)
	_, err = e.Registry.RegisterPack(ctx, p)
	require.NoError(t, err)

	ev, err := e.DB.AutoCommit().EventInsert(ctx, db.NewEvent{TriggerRef: "why.alert",
		Payload: map[string]any{"level": "error", "count": 2, "host": "web-01"}})
	require.NoError(t, err)
	process := func() {
		require.NoError(t, e.DB.InTx(ctx, func(q *db.Queries) error { return e.P.ProcessEvent(ctx, q, ev) }))
	}
	process()

	outs, err := e.DB.AutoCommit().RuleOutcomesByEvent(ctx, ev.ID)
	require.NoError(t, err)
	got := map[string]attune.RuleOutcome{}
	for _, o := range outs {
		require.Equal(t, ev.ID, o.EventID)
		require.NotNil(t, o.RuleID)
		got[o.RuleRef] = o
	}
	require.Len(t, got, 5, "every rule on the trigger is considered once")
	require.Equal(t, attune.OutcomeMatched, got["why.a_matches"].Outcome)
	require.Empty(t, got["why.a_matches"].Reason)
	require.Equal(t, attune.OutcomeNotMatched, got["why.b_level"].Outcome)
	require.Equal(t, `level: equals "info": saw "error"`, got["why.b_level"].Reason)
	require.Equal(t, attune.OutcomeNotMatched, got["why.c_expression"].Outcome)
	require.Equal(t, `expression "event.payload.count > pack.config.min_count" is false; saw event.payload.count = 2, pack.config.min_count = 3`,
		got["why.c_expression"].Reason, "expression criteria see the pack config")
	require.Equal(t, attune.OutcomeError, got["why.d_error"].Outcome)
	require.Contains(t, got["why.d_error"].Reason, `criteria.expression "event.payload.host > 3": line 1, column`)
	require.Contains(t, got["why.d_error"].Reason, `saw event.payload.host = "web-01"`)
	require.Equal(t, attune.OutcomeMatched, got["why.e_missing"].Outcome, "conditions is an alias of criteria")

	enfs, err := e.DB.AutoCommit().EnforcementsByEvent(ctx, ev.ID)
	require.NoError(t, err)
	require.Len(t, enfs, 2, "one enforcement per matched rule")
	byRule := map[string]attune.Enforcement{}
	for _, n := range enfs {
		byRule[n.RuleRef] = n
	}
	require.Equal(t, attune.EnforcementProcessed, byRule["why.a_matches"].Status)
	require.Equal(t, attune.EnforcementFailed, byRule["why.e_missing"].Status)
	require.Equal(t, "action_params.text: template \"{{ event.payload.user_email }}\": line 1, column 18: event.payload.user_email is missing; write `event.payload.user_email ?? fallback` to supply a default",
		byRule["why.e_missing"].Reason)
	xs, err := e.DB.AutoCommit().ExecutionsByEvent(ctx, ev.ID)
	require.NoError(t, err)
	require.Len(t, xs, 1, "a failed enforcement creates no execution")
	require.Equal(t, "web-01", xs[0].Parameters["text"])

	// A redelivery records nothing new.
	process()
	again, err := e.DB.AutoCommit().RuleOutcomesByEvent(ctx, ev.ID)
	require.NoError(t, err)
	require.Equal(t, outs, again)
}

// A rule whose stored criteria no longer compile is recorded as an error with the compile
// error, and does not stop the event's other rules.
func TestProcessEventRecordsCriteriaThatDoNotCompile(t *testing.T) {
	t.Parallel()
	e := attunetest.New(t, attunetest.Options{NoStart: true})
	ctx := context.Background()
	dir := attunetest.WritePack(t, map[string]string{
		"pack.yaml":           "ref: bad\nversion: 1.0.0\n",
		"triggers/alert.yaml": "ref: alert\n",
		"actions/show.yaml":   "ref: show\nrunner_type: noop\n",
		"rules/broken.yaml":   "ref: broken\ntrigger_ref: alert\naction_ref: show\n",
		"rules/fine.yaml":     "ref: fine\ntrigger_ref: alert\naction_ref: show\n",
	})
	p, err := packs.LoadDir(dir, time.Now())
	require.NoError(t, err)
	_, err = e.Registry.RegisterPack(ctx, p)
	require.NoError(t, err)
	_, err = e.DB.Pool.Exec(ctx, `UPDATE attune.rule SET criteria = '[{"field":"a","operator":"equal","value":1}]' WHERE ref = 'bad.broken'`)
	require.NoError(t, err)

	ev, err := e.DB.AutoCommit().EventInsert(ctx, db.NewEvent{TriggerRef: "bad.alert", Payload: map[string]any{"a": 1}})
	require.NoError(t, err)
	require.NoError(t, e.DB.InTx(ctx, func(q *db.Queries) error { return e.P.ProcessEvent(ctx, q, ev) }))

	outs, err := e.DB.AutoCommit().RuleOutcomesByEvent(ctx, ev.ID)
	require.NoError(t, err)
	require.Len(t, outs, 2)
	require.Equal(t, "bad.broken", outs[0].RuleRef)
	require.Equal(t, attune.OutcomeError, outs[0].Outcome)
	require.Contains(t, outs[0].Reason, `criteria do not compile (fix the rule and register its pack again): criteria[0].operator: unknown operator "equal"`)
	require.Equal(t, attune.OutcomeMatched, outs[1].Outcome)
}
