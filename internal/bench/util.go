package bench

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// chunk is how many rows one preload transaction inserts.
const chunk = 2000

// insertChunked calls fn for [lo, hi) chunks of n rows, each in its own transaction.
func insertChunked(ctx context.Context, pool *pgxpool.Pool, fn func(tx pgx.Tx, lo, hi int) error, n int) error {
	for lo := 0; lo < n; lo += chunk {
		hi := min(lo+chunk, n)
		err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error { return fn(tx, lo, hi) })
		if err != nil {
			return fmt.Errorf("rows %d-%d: %w", lo, hi-1, err)
		}
	}
	return nil
}

// pollEvery is how often the bench checks whether a phase is done. Each check is one cheap
// query; it is not part of any measured time.
const pollEvery = 25 * time.Millisecond

// waitFor polls cond every pollEvery until it holds, fails, ctx ends or within passes.
func waitFor(ctx context.Context, within time.Duration, cond func() (bool, error)) error {
	return waitForEvery(ctx, pollEvery, within, cond)
}

// waitForEvery polls cond every every until it holds, fails, ctx ends or within passes.
func waitForEvery(ctx context.Context, every, within time.Duration, cond func() (bool, error)) error {
	deadline := time.Now().Add(within)
	for {
		ok, err := cond()
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not done after %s", within)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(every):
		}
	}
}

// drainTimeout bounds draining a backlog of n: generous, at 40 per second plus a minute (a busy
// shared machine has drained noop at 80 a second).
func drainTimeout(n int) time.Duration {
	return time.Minute + time.Duration(n)*25*time.Millisecond
}

// quietLogger logs warnings and errors to stderr: River's and the replicas' routine info records
// would drown the bench's own output.
func quietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}
