package jobs

import (
	"context"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/db"
)

// workflowChildPending is called, in the transaction that makes x pending (core.ask), so that a
// workflow x belongs to can pause. No workflows yet: it does nothing.
func (p *Pipeline) workflowChildPending(ctx context.Context, q *db.Queries, x attune.Execution) error {
	return nil
}
