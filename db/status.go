package db

import (
	"context"
	"fmt"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/db/internal/dbsqlc"
)

// WorkerHeartbeat records that a replica is alive.
func (q *Queries) WorkerHeartbeat(ctx context.Context, w attune.Worker) error {
	return q.q.WorkerHeartbeat(ctx, dbsqlc.WorkerHeartbeatParams{
		Name: w.Name, Roles: w.Roles, Hostname: w.Hostname, Pid: int32(w.PID),
	})
}

// Workers lists the replicas seen, most recently seen first.
func (q *Queries) Workers(ctx context.Context) ([]attune.Worker, error) {
	rows, err := q.q.WorkerList(ctx)
	if err != nil {
		return nil, fmt.Errorf("list workers: %w", err)
	}
	return mapSlice(rows, func(r dbsqlc.AttuneWorker) attune.Worker {
		return attune.Worker{Name: r.Name, Roles: r.Roles, Hostname: r.Hostname, PID: int(r.Pid),
			StartedAt: r.StartedAt, LastSeenAt: r.LastSeenAt}
	}), nil
}

// JobCounts counts River jobs by queue and state.
func (q *Queries) JobCounts(ctx context.Context) ([]attune.QueueCount, error) {
	rows, err := q.q.JobCountsByQueueState(ctx)
	if err != nil {
		return nil, fmt.Errorf("count jobs: %w", err)
	}
	return mapSlice(rows, func(r dbsqlc.JobCountsByQueueStateRow) attune.QueueCount {
		return attune.QueueCount{Queue: r.Queue, State: r.State, Count: r.N}
	}), nil
}

// WorkerForget removes a replica that stopped cleanly, so nobody waits for it.
func (q *Queries) WorkerForget(ctx context.Context, name string) error {
	return q.q.WorkerDelete(ctx, name)
}
