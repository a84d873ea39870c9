package jobs

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/riverqueue/river"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/db"
)

// Cancel stops an execution on behalf of who (e.g. "cli:alice", "api:deploybot"), from any
// replica:
//
//   - requested or scheduled: it becomes cancelled at once, and its dispatch job is cancelled in
//     the same transaction, so the action never runs;
//   - pending (core.ask): it becomes cancelled at once, and its inquiry too;
//   - running: it becomes canceling; the replica running it hears of it (WatchCancels), stops
//     the action (SIGTERM to its process group, SIGKILL after the kill grace) and records it
//     cancelled;
//   - canceling: nothing more to do; it is returned as it is.
//
// A terminal execution is a *FinishedError (an attune.ErrConflict) that says it already
// completed; an unknown one wraps attune.ErrNotFound. A cancelled execution is never retried.
func (p *Pipeline) Cancel(ctx context.Context, id int64, who string) (attune.Execution, error) {
	reason := "cancelled by " + who
	for try := 0; ; try++ {
		var x attune.Execution
		err := p.DB.InTx(ctx, func(q *db.Queries) error {
			cur, err := q.Execution(ctx, id)
			if err != nil {
				return err
			}
			switch {
			case cur.Status.Terminal():
				return &FinishedError{ID: id, Status: cur.Status}
			case cur.Status == attune.StatusCanceling:
				x = cur
				return nil
			case cur.Runtime == attune.RuntimeOrquesta && (cur.Status == attune.StatusRunning || cur.Status == attune.StatusPaused):
				x, err = p.cancelWorkflow(ctx, q, cur, reason)
				return err
			case cur.Status == attune.StatusRunning:
				x, err = q.ExecutionSetCanceling(ctx, id, reason)
				return err
			default: // requested, scheduled: not started, so stopped here; pending: its inquiry closes
				x, err = p.cancelPending(ctx, q, cur, reason)
				return err
			}
		})
		// A conflict other than "already completed" means the execution moved on between the
		// read and the compare-and-set (a worker claimed it): look again.
		var finished *FinishedError
		if errors.Is(err, attune.ErrConflict) && !errors.As(err, &finished) && try < 5 {
			continue
		}
		// Cancelling a workflow locks it, then its children, while a child ending locks itself,
		// then its workflow: PostgreSQL breaks such a deadlock by failing one; try again.
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "40P01" && try < 5 {
			continue
		}
		if err == nil && x.Status == attune.StatusCanceling {
			p.Log.Info("execution cancel requested", "execution_id", id, "by", who)
		} else if err == nil {
			p.Log.Info("execution cancelled", "execution_id", id, "by", who)
		}
		return x, err
	}
}

// FinishedError is Cancel's answer for an execution that already ended. It wraps
// attune.ErrConflict (HTTP 409).
type FinishedError struct {
	ID     int64
	Status attune.ExecutionStatus
	Verb   string // what was asked: "" means cancel
}

func (e *FinishedError) Error() string {
	return fmt.Sprintf("execution %d already completed (%s); there is nothing to %s", e.ID, e.Status, cmp.Or(e.Verb, "cancel"))
}

// Unwrap makes a FinishedError an attune.ErrConflict.
func (e *FinishedError) Unwrap() error { return attune.ErrConflict }

// cancelPending cancels an execution that has not started, with its dispatch job, in q's
// transaction, and announces the terminal status as every other terminal transition does.
func (p *Pipeline) cancelPending(ctx context.Context, q *db.Queries, cur attune.Execution, reason string) (attune.Execution, error) {
	x, err := q.ExecutionFinish(ctx, cur.ID, db.Finish{From: cur.Status, To: attune.StatusCancelled, Error: reason})
	if err != nil {
		return x, err
	}
	if cur.Status == attune.StatusPending {
		if err := closeInquiry(ctx, q, cur.ID); err != nil {
			return x, err
		}
	}
	jobIDs, err := q.DispatchJobsPending(ctx, cur.ID)
	if err != nil {
		return x, err
	}
	for _, jobID := range jobIDs {
		if _, err := p.River.JobCancelTx(ctx, q.Tx(), jobID); err != nil && !errors.Is(err, river.ErrNotFound) {
			return x, fmt.Errorf("cancel dispatch job %d of execution %d: %w", jobID, cur.ID, err)
		}
	}
	return x, p.announceTerminal(ctx, q.Tx(), x)
}

// cancelPoll is how often a worker checks, without being told, whether someone asked to cancel
// one of the executions it runs: the fallback when a notification is missed.
const cancelPoll = time.Second

// cancelRequest is the cause given to the context of a run that someone cancelled.
type cancelRequest struct{ reason string }

func (c cancelRequest) Error() string { return c.reason }

// runningSet is the executions this replica is running, each with the function that stops it.
type runningSet struct {
	mu sync.Mutex
	m  map[int64]context.CancelCauseFunc
}

// add registers a run; the returned func unregisters it.
func (s *runningSet) add(id int64, stop context.CancelCauseFunc) (remove func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[int64]context.CancelCauseFunc{}
	}
	s.m[id] = stop
	return func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		delete(s.m, id)
	}
}

func (s *runningSet) ids() []int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Collect(maps.Keys(s.m))
}

func (s *runningSet) has(id int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.m[id]
	return ok
}

// stop cancels a run's context with a cancelRequest; false when it does not run here.
func (s *runningSet) stop(id int64, reason string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, ok := s.m[id]
	if ok {
		f(cancelRequest{reason})
	}
	return ok
}

// WatchCancels stops the runs of this replica that someone asked to cancel, until ctx ends. It
// wakes on the hub's notices of executions becoming canceling (hub may be nil) and, as a
// fallback, checks the executions it runs every second, so a cancel taken by any replica or CLI
// reaches the action within about a second even when a notification is lost. Every replica that
// works runtime queues must run it.
func (p *Pipeline) WatchCancels(ctx context.Context, hub *db.Hub) {
	var wake <-chan db.Notice
	if hub != nil {
		sub := hub.Subscribe(func(n db.Notice) bool {
			return n.Channel == db.ChannelExecution && n.Status == attune.StatusCanceling
		})
		defer sub.Close()
		wake = sub.C()
	}
	tick := time.NewTicker(cancelPoll)
	defer tick.Stop()
	for {
		var ids []int64
		select {
		case <-ctx.Done():
			return
		case n := <-wake:
			if n.Resync {
				ids = p.running.ids()
			} else if p.running.has(n.ExecutionID) {
				ids = []int64{n.ExecutionID}
			}
		case <-tick.C:
			ids = p.running.ids()
		}
		if len(ids) == 0 {
			continue
		}
		reasons, err := p.DB.AutoCommit().ExecutionsCanceling(ctx, ids)
		if err != nil {
			if ctx.Err() == nil {
				p.Log.Warn("checking for cancel requests failed", "error", err)
			}
			continue
		}
		for id, reason := range reasons {
			if p.running.stop(id, reason) {
				p.Log.Info("stopping cancelled execution", "execution_id", id, "reason", reason)
			}
		}
	}
}
