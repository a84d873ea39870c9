package bench

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/attune-run/attune"
)

// The policy phase's pack: one trigger, one rule running a no-op action under a threshold-1
// action.concurrency policy (delay), so every execution but the first waits for the slot.
const (
	policyPack    = "benchpolicy"
	policyTrigger = policyPack + ".event"
	policyAction  = policyPack + ".noop"
)

// policyAdmitResult is the outcome of the policy phase.
type policyAdmitResult struct {
	// Admit is, for each execution that waited for the slot, from the commit of the holder's
	// terminal transaction (which gives the slot back and, in the same transaction, admits this
	// waiter and inserts its dispatch job) to the waiter running (its started_at), in ms.
	Admit      Percentiles
	Executions int
	Elapsed    time.Duration
}

// policyPackDef is the pack of the policy phase.
func policyPackDef() *attune.Pack {
	return &attune.Pack{
		Ref: policyPack, Version: "1.0.0", Label: "attune bench policy",
		Triggers: []attune.Trigger{{Ref: policyTrigger, PackRef: policyPack, Label: "Bench event for the policy phase"}},
		Actions:  []attune.Action{{Ref: policyAction, PackRef: policyPack, Runtime: attune.RuntimeNoop, Label: "no-op under a policy"}},
		Rules: []attune.Rule{{Ref: policyPack + ".run", PackRef: policyPack, Enabled: true,
			TriggerRef: policyTrigger, ActionRef: policyAction}},
		Policies: []attune.Policy{{Ref: policyPack + ".one_at_a_time", PackRef: policyPack, ActionRef: policyAction,
			Type: attune.PolicyConcurrency, Threshold: 1, OnFull: attune.PolicyDelay}},
	}
}

// policyAdmit sends n events at once to a rule whose action has a threshold-1 concurrency policy,
// on one replica (rules and workers), waits until every execution is terminal and measures how
// long each waiter took to run once the slot was freed. Attune admits the next waiter in the
// very transaction that frees the slot, so "slot freed -> dispatch committed" is 0 by
// construction; what is left is the dispatch job's fetch and the claim.
func policyAdmit(ctx context.Context, start StartFunc, url string, n int) (policyAdmitResult, error) {
	var res policyAdmitResult
	r, err := start(ctx, url, pipelineRoles)
	if err != nil {
		return res, err
	}
	defer r.Stop()
	if _, err := r.Registry.RegisterPack(ctx, policyPackDef()); err != nil {
		return res, fmt.Errorf("register the policy pack: %w", err)
	}
	if err := preloadEvents(ctx, r, policyTrigger, n); err != nil {
		return res, fmt.Errorf("preload %d events: %w", n, err)
	}
	t0 := time.Now()
	if err := r.Start(ctx); err != nil {
		return res, err
	}
	err = waitFor(ctx, drainTimeout(n), func() (bool, error) {
		err := r.DB.Pool.QueryRow(ctx, `SELECT count(*) FROM attune.execution
			WHERE action_ref = $1 AND finished_at IS NOT NULL`, policyAction).Scan(&res.Executions)
		return res.Executions >= n, err
	})
	if err != nil {
		return res, fmt.Errorf("%d of %d executions terminal: %w", res.Executions, n, err)
	}
	res.Elapsed = time.Since(t0)
	// In the order they ran, each execution after the first follows the one whose terminal
	// commit freed the slot; it waited when it existed before that commit. The execution row's
	// xmin is its terminal transaction (nothing updates it after).
	rows, err := r.DB.Pool.Query(ctx, `
		SELECT extract(epoch FROM started_at - freed) * 1000 FROM (
			SELECT started_at, created_at,
			       lag(pg_xact_commit_timestamp(xmin)) OVER (ORDER BY started_at, id) AS freed
			FROM attune.execution WHERE action_ref = $1 AND started_at IS NOT NULL) x
		WHERE freed IS NOT NULL AND created_at < freed`, policyAction)
	if err != nil {
		return res, fmt.Errorf("read admissions: %w", err)
	}
	var admit []float64
	var ms float64
	if _, err := pgx.ForEachRow(rows, []any{&ms}, func() error { admit = append(admit, ms); return nil }); err != nil {
		return res, fmt.Errorf("read admissions: %w", err)
	}
	res.Admit = Summarise(admit)
	return res, nil
}
