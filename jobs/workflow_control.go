package jobs

import (
	"context"
	"errors"
	"fmt"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/db"
)

// Pause pauses a running workflow on behalf of who: its running children finish, nothing new
// starts (the workflows it runs as tasks pause too) until Resume. A workflow that is already
// paused is returned as it is. An execution that is not a workflow is an attune.ErrInvalid; one
// that has ended a *FinishedError.
func (p *Pipeline) Pause(ctx context.Context, id int64, who string) (attune.Execution, error) {
	return p.control(ctx, id, "pause", func(c *conductor) error {
		if c.st.State == db.WorkflowRunning {
			return c.pause(who)
		}
		if c.st.State == db.WorkflowCanceling {
			return fmt.Errorf("workflow %d is being cancelled: it cannot be paused: %w", id, attune.ErrConflict)
		}
		return nil
	})
}

// Resume resumes a paused workflow on behalf of who: what was ready to start starts, in the
// same transaction. A running workflow is returned as it is.
func (p *Pipeline) Resume(ctx context.Context, id int64, who string) (attune.Execution, error) {
	return p.control(ctx, id, "resume", func(c *conductor) error {
		if c.st.State == db.WorkflowPaused {
			p.Log.Info("workflow resumed", "execution_id", id, "by", who)
			return c.resume()
		}
		if c.st.State == db.WorkflowCanceling {
			return fmt.Errorf("workflow %d is being cancelled: it cannot be resumed: %w", id, attune.ErrConflict)
		}
		return nil
	})
}

// control runs do on workflow id's conductor, in one transaction, then settles the workflow.
func (p *Pipeline) control(ctx context.Context, id int64, verb string, do func(c *conductor) error) (attune.Execution, error) {
	var x attune.Execution
	err := p.DB.InTx(ctx, func(q *db.Queries) error {
		cur, err := q.Execution(ctx, id)
		if err != nil {
			return err
		}
		if cur.Runtime != attune.RuntimeOrquesta {
			return fmt.Errorf("execution %d runs %s, which is not a workflow: only workflows %s: %w", id, cur.ActionRef, verb, attune.ErrInvalid)
		}
		if cur.Status.Terminal() {
			return &FinishedError{ID: id, Status: cur.Status, Verb: verb}
		}
		c, ok, err := p.conduct(ctx, q, id)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("workflow %d has not started yet (%s): %w", id, cur.Status, attune.ErrConflict)
		}
		if err := do(c); err != nil {
			return err
		}
		if err := c.settle(); err != nil {
			return err
		}
		x, err = q.Execution(ctx, id)
		return err
	})
	return x, err
}

// pause stops new starts; the execution goes paused. Child workflows pause with it.
func (c *conductor) pause(who string) error {
	if _, err := c.q.ExecutionSetStatus(c.ctx, c.x.ID, attune.StatusRunning, attune.StatusPaused, c.p.Worker, "paused by "+who); err != nil {
		return err
	}
	c.st.State, c.st.PausedBy = db.WorkflowPaused, who
	c.p.Log.Info("workflow paused", "execution_id", c.x.ID, "by", who)
	return c.eachChildWorkflow(func(cc *conductor) error { return cc.pauseIfRunning(who) })
}

// pauseIfRunning pauses a running workflow and stores its state; one paused already (by
// someone, or by another inquiry) or canceling is left as it is.
func (c *conductor) pauseIfRunning(who string) error {
	if c.st.State != db.WorkflowRunning {
		return nil
	}
	if err := c.pause(who); err != nil {
		return err
	}
	return c.saveState()
}

// resume lets tasks start again (settle starts them); child workflows resume with it.
func (c *conductor) resume() error {
	if _, err := c.q.ExecutionSetStatus(c.ctx, c.x.ID, attune.StatusPaused, attune.StatusRunning, c.p.Worker, "resumed"); err != nil {
		return err
	}
	c.st.State, c.st.PausedBy = db.WorkflowRunning, ""
	c.resumed = true
	return c.eachChildWorkflow(func(cc *conductor) error {
		if cc.st.State != db.WorkflowPaused {
			return nil
		}
		if err := cc.resume(); err != nil {
			return err
		}
		return cc.settle()
	})
}

// eachChildWorkflow runs do on the conductor of each unfinished child workflow.
func (c *conductor) eachChildWorkflow(do func(cc *conductor) error) error {
	kids, err := c.q.WorkflowOpenChildren(c.ctx, c.x.ID)
	if err != nil {
		return err
	}
	for _, k := range kids {
		if k.Runtime != attune.RuntimeOrquesta {
			continue
		}
		cc, ok, err := c.p.conduct(c.ctx, c.q, k.ID)
		if err != nil {
			return err
		}
		if ok {
			if err := do(cc); err != nil {
				return err
			}
		}
	}
	return nil
}

// cancelWorkflow cancels a workflow in q's transaction: it goes canceling, nothing new starts,
// its unfinished children are cancelled (those not started at once, running ones asked to
// stop, child workflows likewise), and it ends cancelled when the last of them has ended.
func (p *Pipeline) cancelWorkflow(ctx context.Context, q *db.Queries, cur attune.Execution, reason string) (attune.Execution, error) {
	c, ok, err := p.conduct(ctx, q, cur.ID)
	if err != nil {
		return cur, err
	}
	if !ok {
		return p.cancelPending(ctx, q, cur, reason) // not started (waiting for a policy slot)
	}
	if err := c.cancel(reason); err != nil {
		return cur, err
	}
	if err := c.settle(); err != nil {
		return cur, err
	}
	return q.Execution(ctx, cur.ID)
}

// cancel marks the workflow canceling and cancels its unfinished children.
func (c *conductor) cancel(reason string) error {
	if c.st.State == db.WorkflowCanceling {
		return nil
	}
	// Children cancelled here end in this transaction: the next settle takes their ends.
	c.busy = true
	defer func() { c.busy = false }()
	if _, err := c.q.ExecutionSetStatus(c.ctx, c.x.ID, c.x.Status, attune.StatusCanceling, c.p.Worker, reason); err != nil {
		return err
	}
	c.x.Status, c.x.Error = attune.StatusCanceling, reason
	c.st.State = db.WorkflowCanceling
	kids, err := c.q.WorkflowOpenChildren(c.ctx, c.x.ID)
	if err != nil {
		return err
	}
	for _, k := range kids {
		switch {
		case k.Runtime == attune.RuntimeOrquesta:
			if _, err := c.p.cancelWorkflow(c.ctx, c.q, k, reason); err != nil {
				return err
			}
		case k.Status == attune.StatusCanceling:
		case k.Status == attune.StatusRunning:
			if _, err := c.q.ExecutionSetCanceling(c.ctx, k.ID, reason); err != nil && !errors.Is(err, attune.ErrConflict) {
				return err
			}
		default: // requested, scheduled (maybe delayed), pending: never started, stopped here
			if _, err := c.p.cancelPending(c.ctx, c.q, k, reason); err != nil && !errors.Is(err, attune.ErrConflict) {
				return err
			}
		}
	}
	for _, t := range c.tasks {
		if t.State == db.TaskReady || t.State == db.TaskWaiting {
			t.State = db.TaskCancelled
			if err := c.q.WorkflowTaskSave(c.ctx, *t); err != nil {
				return err
			}
		}
	}
	return nil
}
