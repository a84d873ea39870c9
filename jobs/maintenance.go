package jobs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/db"
)

// KindRetentionPrune is the periodic (leader-only) job that prunes attune's history.
const KindRetentionPrune = "attune.retention.prune"

// RetentionPruneArgs deletes attune's history past its retention.
type RetentionPruneArgs struct{}

// Kind implements river.JobArgs.
func (RetentionPruneArgs) Kind() string { return KindRetentionPrune }

// InsertOpts implements river.JobArgsWithInsertOpts.
func (RetentionPruneArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueEvents, MaxAttempts: 1}
}

// Reap abandons the running executions of workers silent for longer than silentAfter (and
// records cancelled those someone asked to cancel) and returns how many it ended: the worker died (kill -9, lost host) and its action will not
// report. The action is not run again; a retry policy may start a new attempt. Every replica
// with the rules role reaps on its own ticker, so a dead River leader does not delay it;
// concurrent reapers are safe because each abandonment is a compare-and-set. River's rescuer
// reaches the same end later through the dispatch job.
func (p *Pipeline) Reap(ctx context.Context, silentAfter time.Duration) (int, error) {
	n := 0
	err := p.DB.InTx(ctx, func(q *db.Queries) error {
		xs, err := q.ExecutionsOnSilentWorkers(ctx, p.now().Add(-silentAfter))
		if err != nil {
			return err
		}
		for _, x := range xs {
			reason := fmt.Sprintf("worker %s was lost while running the action (silent for more than %s)", x.Worker, silentAfter)
			fx, err := q.ExecutionFinish(ctx, x.ID, lostWorker(x, reason, p.Worker))
			if errors.Is(err, attune.ErrConflict) {
				continue
			}
			if err != nil {
				return err
			}
			if err := p.announceTerminal(ctx, q.Tx(), fx); err != nil {
				return err
			}
			p.Log.Warn("execution ended: worker lost", "execution_id", x.ID, "status", fx.Status, "reason", reason)
			n++
		}
		return nil
	})
	return n, err
}

// PruneWorker deletes events, enforcements and finished executions older than Retention, and
// the datastore keys that have expired.
type PruneWorker struct {
	river.WorkerDefaults[RetentionPruneArgs]
	P         *Pipeline
	Retention time.Duration
}

// Work implements river.Worker.
func (w *PruneWorker) Work(ctx context.Context, _ *river.Job[RetentionPruneArgs]) error {
	res, err := w.P.DB.Prune(ctx, w.P.now().Add(-w.Retention), 1000)
	if res.Executions+res.Events > 0 {
		w.P.Log.Info("history pruned", "executions", res.Executions, "events", res.Events, "retention", w.Retention)
	}
	// Expired keys already read as missing; this only reclaims their rows.
	keys, kerr := w.P.DB.PruneKeys(ctx, w.P.now(), 1000)
	if keys > 0 {
		w.P.Log.Info("expired keys deleted", "keys", keys)
	}
	return errors.Join(err, kerr)
}
