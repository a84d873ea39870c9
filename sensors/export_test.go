package sensors

import (
	"context"

	"github.com/jackc/pgx/v5/pgxpool"
)

// WarmConn runs what a fire job runs shortly before its time, and returns the connection the
// next round will take and what the job runs when it ends.
func (t *Timers) WarmConn(ctx context.Context) (*pgxpool.Conn, func()) {
	done := t.rounds.warm(ctx, t)
	t.rounds.mu.Lock()
	defer t.rounds.mu.Unlock()
	return t.rounds.conn, done
}
