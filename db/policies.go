package db

import (
	"context"
	"fmt"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/db/internal/dbsqlc"
)

// Slot states of attune.policy_slot.
const (
	SlotHeld    = "held"
	SlotWaiting = "waiting"
)

// registerPolicies upserts a pack's policies and deletes those gone from it.
func (q *Queries) registerPolicies(ctx context.Context, packID int64, p *attune.Pack) error {
	refs := []string{}
	for _, pol := range p.Policies {
		err := q.q.PolicyUpsert(ctx, dbsqlc.PolicyUpsertParams{
			Ref: pol.Ref, PackID: packID, PackRef: p.Ref, ActionRef: pol.ActionRef, PolicyType: pol.Type,
			Threshold: int32(pol.Threshold), OnFull: pol.OnFull, Attributes: nonNil(pol.Attributes),
		})
		if err != nil {
			return fmt.Errorf("upsert policy %s: %w", pol.Ref, err)
		}
		refs = append(refs, pol.Ref)
	}
	if err := q.q.PolicyDeleteMissing(ctx, dbsqlc.PolicyDeleteMissingParams{PackID: packID, Keep: refs}); err != nil {
		return fmt.Errorf("delete policies gone from pack %s: %w", p.Ref, err)
	}
	return nil
}

// PolicyForAction returns the concurrency policy of an action, locked until the transaction
// ends, or attune.ErrNotFound when it has none.
func (q *Queries) PolicyForAction(ctx context.Context, actionRef string) (attune.Policy, error) {
	r, err := q.q.PolicyForActionLock(ctx, actionRef)
	if err != nil {
		return attune.Policy{}, notFound(err, "policy for action", actionRef)
	}
	return toPolicy(r), nil
}

// PolicyLock returns a policy by ref, locked until the transaction ends.
func (q *Queries) PolicyLock(ctx context.Context, ref string) (attune.Policy, error) {
	r, err := q.q.PolicyLock(ctx, ref)
	if err != nil {
		return attune.Policy{}, notFound(err, "policy", ref)
	}
	return toPolicy(r), nil
}

// PolicySlotCounts counts the holders and waiters of one slot key of a policy.
func (q *Queries) PolicySlotCounts(ctx context.Context, policyRef, key string) (held, waiting int, err error) {
	r, err := q.q.PolicySlotCounts(ctx, dbsqlc.PolicySlotCountsParams{PolicyRef: policyRef, SlotKey: key})
	if err != nil {
		return 0, 0, fmt.Errorf("count slots of policy %s: %w", policyRef, err)
	}
	return int(r.Held), int(r.Waiting), nil
}

// PolicySlotInsert records that an execution holds (SlotHeld) or waits for (SlotWaiting) a slot.
func (q *Queries) PolicySlotInsert(ctx context.Context, executionID int64, policyRef, key, state string) error {
	err := q.q.PolicySlotInsert(ctx, dbsqlc.PolicySlotInsertParams{ExecutionID: executionID, PolicyRef: policyRef, SlotKey: key, State: state})
	if err != nil {
		return fmt.Errorf("record slot of execution %d: %w", executionID, err)
	}
	return nil
}

// ReleasedSlot is the slot row an execution gave back.
type ReleasedSlot struct {
	PolicyRef, Key, State string
}

// PolicyWaiters returns up to n waiting executions of a slot key, oldest first.
func (q *Queries) PolicyWaiters(ctx context.Context, policyRef, key string, n int) ([]int64, error) {
	ids, err := q.q.PolicyWaiters(ctx, dbsqlc.PolicyWaitersParams{PolicyRef: policyRef, SlotKey: key, Lim: int32(n)})
	if err != nil {
		return nil, fmt.Errorf("waiters of policy %s: %w", policyRef, err)
	}
	return ids, nil
}

// ExecutionAdmit moves a waiting execution from requested to scheduled and marks its slot held.
// attune.ErrConflict: it is no longer requested (cancelled meanwhile); its slot row is dropped.
func (q *Queries) ExecutionAdmit(ctx context.Context, id int64, policyRef string) (attune.Execution, error) {
	r, err := q.q.ExecutionAdmit(ctx, dbsqlc.ExecutionAdmitParams{ID: id, Reason: "admitted by policy " + policyRef})
	if noRow(err) {
		if err := q.q.PolicySlotDelete(ctx, id); err != nil {
			return attune.Execution{}, fmt.Errorf("drop slot of execution %d: %w", id, err)
		}
		return attune.Execution{}, fmt.Errorf("admit execution %d: %w", id, attune.ErrConflict)
	}
	if err != nil {
		return attune.Execution{}, fmt.Errorf("admit execution %d: %w", id, err)
	}
	if err := q.q.PolicySlotHold(ctx, id); err != nil {
		return attune.Execution{}, fmt.Errorf("hold slot of execution %d: %w", id, err)
	}
	return toExecution(dbsqlc.AttuneExecution(r))
}

// Policies lists every concurrency policy with its slots held and its waiters.
func (q *Queries) Policies(ctx context.Context) ([]attune.Policy, error) {
	rows, err := q.q.PolicyList(ctx)
	if err != nil {
		return nil, fmt.Errorf("list policies: %w", err)
	}
	return mapSlice(rows, func(r dbsqlc.PolicyListRow) attune.Policy {
		p := toPolicy(dbsqlc.AttunePolicy{Ref: r.Ref, PackRef: r.PackRef, ActionRef: r.ActionRef, PolicyType: r.PolicyType,
			Threshold: r.Threshold, OnFull: r.OnFull, Attributes: r.Attributes})
		p.Held, p.Waiting = int(r.Held), int(r.Waiting)
		return p
	}), nil
}

// SlotKey is one (policy, slot key) pair.
type SlotKey struct{ PolicyRef, Key string }

// PolicyKeysWithWaiters lists the slot keys that have waiters.
func (q *Queries) PolicyKeysWithWaiters(ctx context.Context) ([]SlotKey, error) {
	rows, err := q.q.PolicyKeysWithWaiters(ctx)
	if err != nil {
		return nil, fmt.Errorf("slot keys with waiters: %w", err)
	}
	return mapSlice(rows, func(r dbsqlc.PolicyKeysWithWaitersRow) SlotKey { return SlotKey{r.PolicyRef, r.SlotKey} }), nil
}

func toPolicy(r dbsqlc.AttunePolicy) attune.Policy {
	return attune.Policy{Ref: r.Ref, PackRef: r.PackRef, ActionRef: r.ActionRef, Type: r.PolicyType,
		Threshold: int(r.Threshold), OnFull: r.OnFull, Attributes: r.Attributes}
}
