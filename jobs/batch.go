package jobs

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/attune-run/attune/db"
)

// DefaultBatchSize is how many concurrent steps of one kind at most share a transaction when
// Pipeline.BatchSize is zero (pipeline.batch_size).
const DefaultBatchSize = 32

// batchesInFlight is how many shared transactions of one kind run at once. Two keep both the
// replica and PostgreSQL busy while a batch commits, and bound the connections batching holds.
const batchesInFlight = 2

// groupCommit runs the steps of concurrent jobs of one kind in shared transactions (group
// commit). A step is a function of a transaction that may run more than once (it sets what it
// returns afresh each time). Steps wait only while earlier batches of the kind are running: with
// fewer than batchesInFlight running, a step starts at once, alone or with the steps that arrived
// with it, so batching adds no wait at a low rate and grows its batches with the load; a step
// that waits longer than groupPatience (the running batches are slow) runs alone. The steps
// of a batch run one after the other in one transaction, and each job's Work returns once the
// transaction that holds its step committed: at-least-once delivery is unchanged. When a shared
// transaction fails for one of its steps (an error, a panic), it is rolled back and each of its
// steps runs again alone in a transaction of its own, on its job's goroutine, so one bad step
// fails only its own job. A failed begin or commit fails every job of the batch, as it would
// have failed each alone: River delivers them again.
type groupCommit struct {
	db       *db.DB
	size     int
	patience time.Duration // 0: groupPatience
	// prepare, when set, does ahead of a batch of more than one keyed step, in one statement,
	// what each step would otherwise do alone (the dispatch claim). Each step is handed its
	// key's value, once (a second step of the same key gets nil), and nil when it runs alone.
	prepare func(ctx context.Context, q *db.Queries, keys []int64) (map[int64]any, error)

	mu       sync.Mutex
	queue    []*groupStep
	inFlight int
}

// groupStep is one job's step waiting for its batch.
type groupStep struct {
	key  int64 // what prepare does ahead for the step; 0: nothing
	fn   func(q *db.Queries, pre any) error
	done chan error // the outcome of the step's transaction; errBatchFailed: run it again alone
}

// errBatchFailed is the outcome of a step whose shared transaction failed for any of its steps.
var errBatchFailed = errors.New("the shared transaction failed")

// InTx runs fn in a transaction shared with the steps of other jobs that are waiting, or alone
// when batching is off. It returns once that transaction committed, or with fn's own error.
func (g *groupCommit) InTx(ctx context.Context, fn func(q *db.Queries) error) error {
	return g.inTxKeyed(ctx, 0, func(q *db.Queries, _ any) error { return fn(q) })
}

// inTxKeyed is InTx for a step with a key for prepare: fn is handed what prepare did for it, or
// nil (then fn does it itself).
func (g *groupCommit) inTxKeyed(ctx context.Context, key int64, fn func(q *db.Queries, pre any) error) error {
	alone := func() error { return g.db.InTx(ctx, func(q *db.Queries) error { return fn(q, nil) }) }
	if g.size <= 1 {
		return alone()
	}
	s := &groupStep{key: key, fn: fn, done: make(chan error, 1)}
	g.mu.Lock()
	g.queue = append(g.queue, s)
	lead := g.inFlight < batchesInFlight
	if lead {
		g.inFlight++
	}
	g.mu.Unlock()
	if lead {
		go g.lead()
	}
	patience := time.NewTimer(cmp.Or(g.patience, groupPatience))
	defer patience.Stop()
	for {
		select {
		case err := <-s.done:
			if errors.Is(err, errBatchFailed) {
				return alone()
			}
			return err
		case <-patience.C:
			if g.leave(s) { // both batches are slow (a costly rule, a lock): do not queue behind them
				return alone()
			}
		case <-ctx.Done():
			// The step may still commit with its batch; the job's next delivery finds it done.
			return fmt.Errorf("waiting for a shared transaction: %w", context.Cause(ctx))
		}
	}
}

// groupPatience is how long a step waits for a batch to take it before it runs alone: batches
// of quick steps take a few milliseconds, and one slow step (a rule whose expressions cost
// seconds, a wait for a lock) must not hold up every other job of its kind.
const groupPatience = 100 * time.Millisecond

// leave takes s out of the queue, unless a batch already took it.
func (g *groupCommit) leave(s *groupStep) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	for i, q := range g.queue {
		if q == s {
			g.queue = append(g.queue[:i], g.queue[i+1:]...)
			return true
		}
	}
	return false
}

// lead runs batches of waiting steps until none is left.
func (g *groupCommit) lead() {
	for {
		g.mu.Lock()
		n := min(len(g.queue), g.size)
		if n == 0 {
			g.inFlight--
			g.mu.Unlock()
			return
		}
		steps := make([]*groupStep, n)
		copy(steps, g.queue)
		g.queue = append(g.queue[:0], g.queue[n:]...)
		g.mu.Unlock()
		err := g.run(steps)
		for _, s := range steps {
			s.done <- err
		}
	}
}

// run runs steps one after the other in one transaction. A step alone gets its own error back.
// A batch that a step failed (its error, its panic) was rolled back: errBatchFailed for all of
// them. A batch whose begin or commit failed gets that error as it is, as a step alone would:
// after a failed commit nobody knows whether it committed, so the jobs are delivered again
// (attempt 2), and a dispatch finding its execution claimed then says the worker was lost
// instead of taking the claim for a duplicate's.
func (g *groupCommit) run(steps []*groupStep) (err error) {
	stepFailed := false
	defer func() {
		if r := recover(); r != nil { // the step panics again alone, on its job's goroutine, where River reports it
			err = fmt.Errorf("%w: a step panicked: %v", errBatchFailed, r)
		}
	}()
	ctx := context.Background()
	err = g.db.InTx(ctx, func(q *db.Queries) error {
		var pre map[int64]any
		var keys []int64
		for _, s := range steps {
			if s.key != 0 {
				keys = append(keys, s.key)
			}
		}
		if g.prepare != nil && len(keys) > 1 {
			var err error
			if pre, err = g.prepare(ctx, q, keys); err != nil {
				stepFailed = true
				return err
			}
		}
		for _, s := range steps {
			v := pre[s.key]
			delete(pre, s.key) // once: a duplicate delivery in the same batch does it itself, and finds it done
			if err := s.fn(q, v); err != nil {
				stepFailed = true
				return err
			}
		}
		return nil
	})
	if err != nil && stepFailed && len(steps) > 1 {
		return fmt.Errorf("%w: %w", errBatchFailed, err)
	}
	return err
}

// groups holds the pipeline's group commits, made on first use.
type groups struct {
	once             sync.Once
	events, dispatch *groupCommit
}

// eventGroup is the group commit of event processing.
func (p *Pipeline) eventGroup() *groupCommit {
	p.initGroups()
	return p.groups.events
}

// dispatchGroup is the group commit of dispatch claims and outcomes. A batch's claims are one
// statement (db.ExecutionClaimMany).
func (p *Pipeline) dispatchGroup() *groupCommit {
	p.initGroups()
	return p.groups.dispatch
}

func (p *Pipeline) initGroups() {
	p.groups.once.Do(func() {
		size := p.BatchSize
		if size == 0 {
			size = DefaultBatchSize
		}
		p.groups.events = &groupCommit{db: p.DB, size: size}
		p.groups.dispatch = &groupCommit{db: p.DB, size: size, prepare: func(ctx context.Context, q *db.Queries, ids []int64) (map[int64]any, error) {
			claims, err := q.ExecutionClaimMany(ctx, ids, p.Worker)
			pre := make(map[int64]any, len(claims))
			for id, c := range claims {
				pre[id] = c
			}
			return pre, err
		}}
	})
}
