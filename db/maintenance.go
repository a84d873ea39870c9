package db

import (
	"context"
	"fmt"
	"time"

	"github.com/attune-run/attune/db/internal/dbsqlc"
)

// PruneResult counts what one prune removed.
type PruneResult struct {
	Executions int64
	Events     int64
}

// Prune deletes finished executions, then events (with their enforcements), created before
// before, batch rows per statement, each statement its own short transaction, so the tables are
// never locked for long. It stops early when ctx ends.
func (d *DB) Prune(ctx context.Context, before time.Time, batch int32) (PruneResult, error) {
	var res PruneResult
	q := d.AutoCommit()
	for {
		n, err := q.q.ExecutionPruneBatch(ctx, dbsqlc.ExecutionPruneBatchParams{Before: before, Batch: batch})
		if err != nil {
			return res, fmt.Errorf("prune executions: %w", err)
		}
		res.Executions += n
		if n < int64(batch) {
			break
		}
	}
	for {
		n, err := q.q.EventPruneBatch(ctx, dbsqlc.EventPruneBatchParams{Before: before, Batch: batch})
		if err != nil {
			return res, fmt.Errorf("prune events: %w", err)
		}
		res.Events += n
		if n < int64(batch) {
			break
		}
	}
	return res, nil
}

// PendingJobs is the oldest job waiting in one queue.
type PendingJobs struct {
	Queue  string
	Oldest time.Time
	Count  int64
}

// OldestPendingJobs lists, per queue, how many jobs wait to run and since when.
func (q *Queries) OldestPendingJobs(ctx context.Context) ([]PendingJobs, error) {
	rows, err := q.q.OldestPendingJobs(ctx)
	if err != nil {
		return nil, fmt.Errorf("oldest pending jobs: %w", err)
	}
	return mapSlice(rows, func(r dbsqlc.OldestPendingJobsRow) PendingJobs {
		return PendingJobs{Queue: r.Queue, Oldest: r.Oldest, Count: r.N}
	}), nil
}
