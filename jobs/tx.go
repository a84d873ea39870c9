package jobs

import (
	"context"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/attune-run/attune/db"
)

// completeTx completes a job in the step's transaction, so River's batch completer never
// stands between a step's commit and its job's completion.
func completeTx[T river.JobArgs](ctx context.Context, q *db.Queries, job *river.Job[T]) error {
	_, err := river.JobCompleteTx[*riverpgxv5.Driver](ctx, q.Tx(), job)
	return err
}
