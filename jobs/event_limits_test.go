package jobs_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/db"
	"github.com/attune-run/attune/internal/attunetest"
	"github.com/attune-run/attune/packs"
)

// registerBombPack registers pack "bomb": trigger "alert", a noop action "show" and rules.
func registerBombPack(t *testing.T, e *attunetest.Env, rules map[string]string) {
	t.Helper()
	files := map[string]string{
		"pack.yaml":           "ref: bomb\nversion: 1.0.0\n",
		"triggers/alert.yaml": "ref: alert\n",
		"actions/show.yaml":   "ref: show\nrunner_type: noop\nparameters:\n  text: {type: string}\n",
	}
	for name, content := range rules {
		files["rules/"+name+".yaml"] = content
	}
	p, err := packs.LoadDir(attunetest.WritePack(t, files), time.Now())
	require.NoError(t, err)
	_, err = e.Registry.RegisterPack(context.Background(), p)
	require.NoError(t, err)
}

// processingJob returns the state, attempt count and max attempts of an event's processing job.
func processingJob(t *testing.T, e *attunetest.Env, eventID int64) (state string, attempt, maxAttempts int) {
	t.Helper()
	err := e.DB.Pool.QueryRow(context.Background(), `SELECT state, attempt, max_attempts FROM river_job
		WHERE kind = 'attune.event.process' AND (args->>'event_id')::bigint = $1`, eventID).Scan(&state, &attempt, &maxAttempts)
	require.NoError(t, err)
	return state, attempt, maxAttempts
}

// A rule whose template or criteria would allocate far beyond the expression budget on an
// event's payload fails cleanly: the event is processed, the criteria's outcome and the
// template's enforcement say why, and nothing else is held up. The processing job has a small
// MaxAttempts.
func TestEventOverExpressionBudgetFailsCleanly(t *testing.T) {
	t.Parallel()
	e := attunetest.New(t)
	ctx := context.Background()
	registerBombPack(t, e, map[string]string{
		"template": "ref: template\ntrigger_ref: alert\naction_ref: show\n" +
			"action_params: {text: \"{{ len(repeat(event.payload.s, 1000)) }}\"}\n",
		"criteria": "ref: criteria\ntrigger_ref: alert\naction_ref: show\n" +
			"criteria: {expression: \"len(repeat(event.payload.s, 1000)) > 0\"}\n",
		"fine": "ref: fine\ntrigger_ref: alert\naction_ref: show\naction_params: {text: ok}\n",
	})

	ev, err := e.P.EmitEvent(ctx, db.NewEvent{TriggerRef: "bomb.alert",
		Payload: map[string]any{"s": strings.Repeat("x", 20_000)}})
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		state, _, _ := processingJob(t, e, ev.ID)
		return state == "completed"
	}, 20*time.Second, 20*time.Millisecond)
	_, attempt, maxAttempts := processingJob(t, e, ev.ID)
	require.Equal(t, 1, attempt)
	require.Equal(t, 3, maxAttempts, "a poisonous event is not tried 25 times")

	outs, err := e.DB.AutoCommit().RuleOutcomesByEvent(ctx, ev.ID)
	require.NoError(t, err)
	got := map[string]attune.RuleOutcome{}
	for _, o := range outs {
		got[o.RuleRef] = o
	}
	require.Equal(t, attune.OutcomeError, got["bomb.criteria"].Outcome)
	require.Contains(t, got["bomb.criteria"].Reason, "repeat would produce 20000000 bytes, over what is left of the expression budget")

	enfs, err := e.DB.AutoCommit().EnforcementsByEvent(ctx, ev.ID)
	require.NoError(t, err)
	byRule := map[string]attune.Enforcement{}
	for _, n := range enfs {
		byRule[n.RuleRef] = n
	}
	require.Equal(t, attune.EnforcementFailed, byRule["bomb.template"].Status)
	require.Contains(t, byRule["bomb.template"].Reason, `action_params.text: template "{{ len(repeat(event.payload.s, 1000)) }}"`)
	require.Contains(t, byRule["bomb.template"].Reason, "expression budget")
	require.Equal(t, attune.EnforcementProcessed, byRule["bomb.fine"].Status, "the other rules run")
}

// An event whose previous processing attempt died with its process (River rescued its job) is
// not evaluated again: the event records why, and the job completes without considering a rule.
func TestEventWhosePreviousAttemptDiedIsNotRetried(t *testing.T) {
	t.Parallel()
	e := attunetest.New(t, attunetest.Options{NoStart: true})
	ctx := context.Background()
	registerBombPack(t, e, map[string]string{
		"any": "ref: any\ntrigger_ref: alert\naction_ref: show\naction_params: {text: hi}\n",
	})
	ev, err := e.P.EmitEvent(ctx, db.NewEvent{TriggerRef: "bomb.alert", Payload: map[string]any{"s": "x"}})
	require.NoError(t, err)
	// What River's rescuer leaves of an attempt whose replica died: the attempt counted, an
	// error saying it was rescued, and the job available again.
	_, err = e.DB.Pool.Exec(ctx, `UPDATE river_job SET attempt = 1, attempted_at = now() - interval '1 hour',
		errors = ARRAY[jsonb_build_object('at', now(), 'attempt', 1, 'error', 'Stuck job rescued by JobRescuer', 'trace', '')]
		WHERE kind = 'attune.event.process' AND (args->>'event_id')::bigint = $1`, ev.ID)
	require.NoError(t, err)

	require.NoError(t, e.River.Start(ctx))
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = e.River.Stop(sctx)
	})
	require.Eventually(t, func() bool {
		state, _, _ := processingJob(t, e, ev.ID)
		return state == "completed"
	}, 20*time.Second, 20*time.Millisecond)
	_, attempt, _ := processingJob(t, e, ev.ID)
	require.Equal(t, 2, attempt)

	outs, err := e.DB.AutoCommit().RuleOutcomesByEvent(ctx, ev.ID)
	require.NoError(t, err)
	require.Empty(t, outs, "no rule is evaluated again")
	var reason string
	require.NoError(t, e.DB.Pool.QueryRow(ctx, `SELECT processing_error FROM attune.event WHERE id = $1`, ev.ID).Scan(&reason))
	require.Contains(t, reason, "a previous attempt died while processing this event")
	require.Contains(t, reason, "not retried")
}

// deepJSON is a JSON text of objects nested depth levels deep.
func deepJSON(depth int) string {
	return strings.Repeat(`{"a":`, depth) + "1" + strings.Repeat("}", depth)
}

// Payloads and parameters deeper than attune.MaxNestingDepth are refused at every entry point
// of the pipeline: an emitted event, a run by hand, and a rule's rendered action parameters
// (which fail the enforcement, naming action_params).
func TestNestingDepthRefusedAtEveryEntryPoint(t *testing.T) {
	t.Parallel()
	e := attunetest.New(t, attunetest.Options{NoStart: true})
	ctx := context.Background()
	registerBombPack(t, e, map[string]string{
		"deep": "ref: deep\ntrigger_ref: alert\naction_ref: show\n" +
			"action_params: {text: \"{{ fromJSON(event.payload.doc) }}\"}\n",
	})
	var deep map[string]any
	require.NoError(t, json.Unmarshal([]byte(deepJSON(100)), &deep))

	_, err := e.P.EmitEvent(ctx, db.NewEvent{TriggerRef: "bomb.alert", Payload: deep})
	require.ErrorIs(t, err, attune.ErrInvalid)
	require.ErrorContains(t, err, "payload: nested more than 64 levels deep (at payload.a.a")
	_, err = e.P.EmitEvent(ctx, db.NewEvent{TriggerRef: "bomb.alert", Payload: map[string]any{"s": strings.Repeat("x", attune.MaxPayloadBytes)}})
	require.ErrorContains(t, err, "over the limit of 1048576 (1 MiB)")
	var events int
	require.NoError(t, e.DB.Pool.QueryRow(ctx, `SELECT count(*) FROM attune.event`).Scan(&events))
	require.Zero(t, events, "nothing stored")

	_, err = e.P.Run(ctx, "bomb.show", map[string]any{"text": deep}, 0)
	require.ErrorIs(t, err, attune.ErrInvalid)
	require.ErrorContains(t, err, "parameters: nested more than 64 levels deep (at parameters.text.a.a")

	ev, err := e.DB.AutoCommit().EventInsert(ctx, db.NewEvent{TriggerRef: "bomb.alert", Payload: map[string]any{"doc": deepJSON(100)}})
	require.NoError(t, err)
	require.NoError(t, e.DB.InTx(ctx, func(q *db.Queries) error { return e.P.ProcessEvent(ctx, q, ev) }))
	enfs, err := e.DB.AutoCommit().EnforcementsByEvent(ctx, ev.ID)
	require.NoError(t, err)
	require.Len(t, enfs, 1)
	require.Equal(t, attune.EnforcementFailed, enfs[0].Status)
	require.Contains(t, enfs[0].Reason, "action_params: nested more than 64 levels deep (at action_params.text.a.a")
}
