package db

import (
	"context"
	"fmt"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/db/internal/dbsqlc"
)

// ExecutionSetCanceling moves a running execution to canceling, recording reason (who asked) as
// its error and in its history. The worker running it hears of it (see Hub) and records it
// cancelled once the action is stopped. It returns ErrConflict when the execution is not running.
func (q *Queries) ExecutionSetCanceling(ctx context.Context, id int64, reason string) (attune.Execution, error) {
	r, err := q.q.ExecutionSetCanceling(ctx, dbsqlc.ExecutionSetCancelingParams{ID: id, Error: reason})
	if err != nil {
		if noRow(err) {
			return attune.Execution{}, fmt.Errorf("cancel execution %d: not running: %w", id, attune.ErrConflict)
		}
		return attune.Execution{}, fmt.Errorf("cancel execution %d: %w", id, err)
	}
	return toExecution(dbsqlc.AttuneExecution(r))
}

// ExecutionsCanceling returns, of the given executions, those someone asked to cancel, mapped to
// the reason recorded with the request (who asked).
func (q *Queries) ExecutionsCanceling(ctx context.Context, ids []int64) (map[int64]string, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	rows, err := q.q.ExecutionsCanceling(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("executions being cancelled: %w", err)
	}
	out := make(map[int64]string, len(rows))
	for _, r := range rows {
		out[r.ID] = r.Error
	}
	return out, nil
}

// DispatchJobsPending lists the ids of an execution's dispatch jobs that River has not finished
// (available, scheduled, retryable or running), so cancelling the execution can cancel them too.
func (q *Queries) DispatchJobsPending(ctx context.Context, executionID int64) ([]int64, error) {
	ids, err := q.q.DispatchJobsPending(ctx, executionID)
	if err != nil {
		return nil, fmt.Errorf("dispatch jobs of execution %d: %w", executionID, err)
	}
	return ids, nil
}

// OutputInsert stores one batch of an action's output. The insert notifies the attune_output
// channel (see the migration), in the caller's transaction.
func (q *Queries) OutputInsert(ctx context.Context, c attune.OutputChunk) error {
	err := q.q.OutputInsert(ctx, dbsqlc.OutputInsertParams{
		ExecutionID: c.ExecutionID, Seq: int32(c.Seq), Stream: c.Stream, Data: c.Data,
	})
	if err != nil {
		return fmt.Errorf("store output %d of execution %d: %w", c.Seq, c.ExecutionID, err)
	}
	return nil
}

// OutputSince returns up to limit stored output batches of an execution whose seq is greater
// than after, in order. after 0 reads from the start.
func (q *Queries) OutputSince(ctx context.Context, executionID, after int64, limit int) ([]attune.OutputChunk, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := q.q.OutputSince(ctx, dbsqlc.OutputSinceParams{ExecutionID: executionID, After: int32(after), Lim: int32(limit)})
	if err != nil {
		return nil, fmt.Errorf("output of execution %d: %w", executionID, err)
	}
	return mapSlice(rows, func(r dbsqlc.AttuneExecutionOutput) attune.OutputChunk {
		return attune.OutputChunk{ExecutionID: r.ExecutionID, Seq: int64(r.Seq), Stream: r.Stream, Data: r.Data, At: r.At}
	}), nil
}
