package jobs

import (
	"context"
	"fmt"
	"maps"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/db"
	"github.com/attune-run/attune/secrets"
)

// Rerun schedules a new execution of the action of execution id, with that execution's
// parameters and the given ones merged over them, its timeout, and rerun_of pointing at it. The
// parameters are validated as Run validates them (invalid ones are an error holding
// params.FieldErrors, and nothing is written). The old execution's secret parameters carry over:
// their sealed values are opened and sealed again with the new execution, unless given anew.
func (p *Pipeline) Rerun(ctx context.Context, id int64, given map[string]any) (attune.Execution, error) {
	var x attune.Execution
	err := p.DB.InTx(ctx, func(q *db.Queries) error {
		old, err := q.Execution(ctx, id)
		if err != nil {
			return err
		}
		action, actionID, err := q.Action(ctx, old.ActionRef)
		if err != nil {
			return fmt.Errorf("re-run execution %d: %w", id, err)
		}
		merged, err := p.rerunParameters(old)
		if err != nil {
			return err
		}
		maps.Copy(merged, given)
		x, err = p.runTx(ctx, q, db.NewExecution{
			Action: action, ActionID: actionID, TimeoutSec: old.TimeoutSec, RerunOf: &old.ID,
		}, merged)
		return err
	})
	return x, err
}

// rerunParameters returns an execution's parameters with its secret values opened in place of
// their redacted "********".
func (p *Pipeline) rerunParameters(old attune.Execution) (map[string]any, error) {
	merged := maps.Clone(old.Parameters)
	if merged == nil {
		merged = map[string]any{}
	}
	if len(old.SealedSecrets) == 0 {
		return merged, nil
	}
	if p.Secrets == nil {
		return nil, fmt.Errorf("re-run execution %d: its secret parameters cannot be opened: %w", old.ID, secrets.ErrNoKey)
	}
	var vals map[string]any
	if err := p.Secrets.OpenJSON(old.SealedSecrets, &vals); err != nil {
		return nil, fmt.Errorf("re-run execution %d: open secret parameters: %w", old.ID, err)
	}
	maps.Copy(merged, vals)
	return merged, nil
}
