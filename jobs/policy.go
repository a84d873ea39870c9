package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/db"
)

// Concurrency policies. The slot table (attune.policy_slot) is written in the same transactions
// as the executions: a slot is taken in the transaction that schedules an execution and inserts
// its dispatch job, and given back in the one that records its terminal status, which also
// admits the oldest waiters. The policy's row, locked FOR UPDATE in both, makes admissions and
// releases of one policy take turns across every replica; no lock is held while an action runs.

// admitState says what a policy made of a new execution.
type admitState int

const (
	admitNoPolicy admitState = iota // the action has no concurrency policy
	admitNow                        // a slot was free: scheduled now
	admitWait                       // every slot taken: requested, waiting in line
	admitCancel                     // every slot taken and the policy cancels
)

// admissionResult is a policy's decision on a new execution.
type admissionResult struct {
	state  admitState
	policy attune.Policy
	key    string
	held   int
}

// admission decides, in the scheduling transaction, whether a new execution of n.Action may run
// now. A slot is free when fewer than the threshold are held and nobody waits for one (first
// come, first served).
func (p *Pipeline) admission(ctx context.Context, q *db.Queries, n db.NewExecution) (admissionResult, error) {
	pol, err := q.PolicyForAction(ctx, n.Action.Ref)
	if errors.Is(err, attune.ErrNotFound) {
		return admissionResult{state: admitNoPolicy}, nil
	}
	if err != nil {
		return admissionResult{}, err
	}
	key, err := slotKey(pol, n.Parameters)
	if err != nil {
		return admissionResult{}, err
	}
	held, waiting, err := q.PolicySlotCounts(ctx, pol.Ref, key)
	if err != nil {
		return admissionResult{}, err
	}
	res := admissionResult{state: admitNow, policy: pol, key: key, held: held}
	switch {
	case held < pol.Threshold && waiting == 0:
	case pol.OnFull == attune.PolicyCancel:
		res.state = admitCancel
	default:
		res.state = admitWait
	}
	return res, nil
}

// admitted records what admission decided for the new execution x.
func (p *Pipeline) admitted(ctx context.Context, q *db.Queries, x attune.Execution, adm admissionResult, at time.Time) (attune.Execution, error) {
	switch adm.state {
	case admitNow:
		if err := q.PolicySlotInsert(ctx, x.ID, adm.policy.Ref, adm.key, db.SlotHeld); err != nil {
			return x, err
		}
		return x, p.insertDispatch(ctx, q, x, at)
	case admitWait:
		if err := q.PolicySlotInsert(ctx, x.ID, adm.policy.Ref, adm.key, db.SlotWaiting); err != nil {
			return x, err
		}
		return x, nil
	}
	reason := fmt.Sprintf("cancelled by policy %s: %d of %d slots in use", adm.policy.Ref, adm.held, adm.policy.Threshold)
	fx, err := q.ExecutionFinish(ctx, x.ID, db.Finish{From: attune.StatusRequested, To: attune.StatusCancelled, Error: reason, Worker: p.Worker})
	if err != nil {
		return x, err
	}
	return fx, p.announceTerminal(ctx, q.Tx(), fx)
}

// slotKey is the slot key of an execution under pol: "" for action.concurrency, the JSON of the
// attribute parameters' values (as stored: a secret one is "********") for the attr variant.
func slotKey(pol attune.Policy, params map[string]any) (string, error) {
	if pol.Type != attune.PolicyConcurrencyAttr {
		return "", nil
	}
	vals := make([]any, len(pol.Attributes))
	for i, a := range pol.Attributes {
		vals[i] = params[a]
	}
	b, err := json.Marshal(vals)
	if err != nil {
		return "", fmt.Errorf("policy %s: slot key: %w", pol.Ref, err)
	}
	return string(b), nil
}

// releaseSlot admits the oldest waiters of the slot key an execution that reached a terminal
// status gave back (rel, deleted by announceTerminal), in the caller's transaction. A waiter that
// ends (cancelled) just leaves the line.
func (p *Pipeline) releaseSlot(ctx context.Context, q *db.Queries, rel db.ReleasedSlot) error {
	if rel.State != db.SlotHeld {
		return nil
	}
	pol, err := q.PolicyLock(ctx, rel.PolicyRef)
	if errors.Is(err, attune.ErrNotFound) {
		return nil // the policy was removed; its waiters are admitted by AdmitWaiting
	}
	if err != nil {
		return err
	}
	return p.admitWaiters(ctx, q, pol, rel.Key)
}

// admitWaiters schedules the oldest waiters of a slot key while slots are free. The caller holds
// the policy's lock.
func (p *Pipeline) admitWaiters(ctx context.Context, q *db.Queries, pol attune.Policy, key string) error {
	for {
		held, _, err := q.PolicySlotCounts(ctx, pol.Ref, key)
		if err != nil {
			return err
		}
		free := pol.Threshold - held
		if free <= 0 {
			return nil
		}
		ids, err := q.PolicyWaiters(ctx, pol.Ref, key, free)
		if err != nil || len(ids) == 0 {
			return err
		}
		for _, id := range ids {
			x, err := q.ExecutionAdmit(ctx, id, pol.Ref)
			if errors.Is(err, attune.ErrConflict) {
				continue // no longer requested (cancelled): it left the line
			}
			if err != nil {
				return err
			}
			if err := p.insertDispatch(ctx, q, x, time.Time{}); err != nil {
				return err
			}
		}
	}
}

// AdmitWaiting admits waiters wherever a slot is free: after a policy's threshold was raised or
// the policy removed (its waiters then run). Every rules replica calls it with the reaper.
func (p *Pipeline) AdmitWaiting(ctx context.Context) error {
	keys, err := p.DB.AutoCommit().PolicyKeysWithWaiters(ctx)
	if err != nil {
		return err
	}
	for _, k := range keys {
		err := p.DB.InTx(ctx, func(q *db.Queries) error {
			pol, err := q.PolicyLock(ctx, k.PolicyRef)
			if errors.Is(err, attune.ErrNotFound) {
				pol = attune.Policy{Ref: k.PolicyRef, Threshold: 1 << 30} // gone: no limit
			} else if err != nil {
				return err
			}
			return p.admitWaiters(ctx, q, pol, k.Key)
		})
		if err != nil {
			return fmt.Errorf("admit waiters of policy %s: %w", k.PolicyRef, err)
		}
	}
	return nil
}
