package jobs

import (
	"context"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/db"
)

// pausedByInquiry is attune.workflow.paused_by of a workflow paused because a child waits for a
// human (core.ask): the child's completion resumes it.
const pausedByInquiry = "inquiry"

// workflowChildPending pauses the workflow of x, an execution that just went pending (core.ask
// waiting for its response), in q's transaction: running siblings finish, nothing new starts,
// and x's completion resumes the workflow. A top-level execution has no workflow to pause.
func (p *Pipeline) workflowChildPending(ctx context.Context, q *db.Queries, x attune.Execution) error {
	if x.Parent == nil {
		return nil
	}
	c, ok, err := p.conduct(ctx, q, x.Parent.ParentID)
	if err != nil || !ok {
		return err
	}
	return c.pauseIfRunning(pausedByInquiry)
}

// resumeAfterInquiry resumes a workflow paused by an inquiry once no child waits for a human.
func (c *conductor) resumeAfterInquiry() error {
	n, err := c.q.WorkflowPendingChildren(c.ctx, c.x.ID)
	if err != nil || n > 0 {
		return err
	}
	return c.resume()
}
