package sensors

import (
	"context"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// rounds groups the fires of one replica into rounds, as a group commit does: a fire job whose
// time has come starts a round at once while fewer than maxRounds run; otherwise it joins the
// next round, which starts as soon as one of those ends, together with every job that arrived
// meanwhile. A round fires every timer due when it starts (Timers.fireDue), so a job's own timer
// is in the first round that starts after it joined, unless another transaction holds the timer
// (a concurrent round, which fires it, or a rule being disabled). Its job then succeeds all the
// same: a round that fails is retried by its jobs, and a due timer left behind is fired by the
// next round anywhere or, when its job is finished, by the reconciler.
type rounds struct {
	mu      sync.Mutex
	running int    // goroutines running rounds
	next    *round // the round the next arrivals join, not started yet
	conn    *pgxpool.Conn
	warming bool
}

// maxRounds bounds the rounds one replica runs at once, and so the connections they take.
const maxRounds = 4

// round is one fire transaction and the jobs waiting for it.
type round struct {
	done chan struct{}
	err  error
}

// roundTimeout bounds one round, which goes on when the job that runs it is cancelled.
const roundTimeout = 30 * time.Second

// join runs a round or waits for the next one to end, and returns its error. A job that runs a
// round goes on running the rounds of the jobs that joined while it did.
func (r *rounds) join(ctx context.Context, t *Timers) error {
	r.mu.Lock()
	if r.running >= maxRounds {
		if r.next == nil {
			r.next = &round{done: make(chan struct{})}
		}
		mine := r.next
		r.mu.Unlock()
		select {
		case <-mine.done:
			return mine.err
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	r.running++
	conn := r.conn
	r.conn = nil
	r.mu.Unlock()
	// The rounds after its own are other jobs': a cancelled job (its rule was disabled) still
	// ends them.
	run := context.WithoutCancel(ctx)
	err := r.run(run, t, conn)
	for {
		r.mu.Lock()
		next := r.next
		r.next = nil
		if next == nil {
			r.running--
			r.mu.Unlock()
			return err
		}
		conn := r.conn
		r.conn = nil
		r.mu.Unlock()
		next.err = r.run(run, t, conn)
		close(next.done)
	}
}

// run runs one round on conn, or on a connection from the pool when conn is nil.
func (r *rounds) run(ctx context.Context, t *Timers, conn *pgxpool.Conn) error {
	ctx, cancel := context.WithTimeout(ctx, roundTimeout)
	defer cancel()
	if conn == nil {
		var err error
		if conn, err = t.P.DB.Pool.Acquire(ctx); err != nil {
			return err
		}
	}
	defer conn.Release()
	_, err := t.fireDue(ctx, conn)
	return err
}

// warm takes a connection for the next round, unless one is held already, so that the round
// does not wait for one after its time. Every pool connection prepared and planned the round's
// statements when it opened (db.Open, dbsqlc.Hot), so the round finds them ready. A failure is
// left to the round, which takes another connection. The job that took the connection calls
// done when it ends: a connection no round took by then goes back to the pool.
func (r *rounds) warm(ctx context.Context, t *Timers) (done func()) {
	r.mu.Lock()
	if r.conn != nil || r.warming {
		r.mu.Unlock()
		return func() {}
	}
	r.warming = true
	r.mu.Unlock()
	conn, err := t.P.DB.Pool.Acquire(ctx)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.warming = false
	if err != nil {
		return func() {}
	}
	r.conn = conn
	return func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.conn == conn {
			r.conn = nil
			conn.Release()
		}
	}
}
