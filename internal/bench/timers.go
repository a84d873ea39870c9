package bench

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// timerResult is the outcome of the timer phase.
type timerResult struct {
	Lateness Percentiles // fired_at - scheduled_at, ms
	// Steady leaves out each timer's first tick, which runs on cold connections (statements
	// prepared and planned for the first time): what a long-running replica sees.
	Steady Percentiles
	// Fetch is how late the fire job was fetched (its last attempt) after its fire time; the
	// rest of the lateness is the fire transaction waiting for a connection and its first reads.
	Fetch Percentiles
	// Committed is how late each tick's event was committed (its transaction's commit
	// timestamp) after its scheduled time: fired_at plus the rest of the fire transaction.
	Committed  Percentiles
	Expected   int // ticks due within the window, over all timers
	Fired      int // distinct (timer, scheduled time) fired
	Missed     int // expected but never fired
	Duplicates int // a tick recorded, or its action run, more than once
	Timers     int
}

// timerPrecision registers n rules with a one-second interval timer each on a replica running
// every role, lets them tick for d, and reads every tick back from attune.event: lateness from
// the payload's fired_at and the event's scheduled_at, missed ticks against each timer's own
// schedule, duplicates against the (timer, scheduled time) key and the executions per tick.
func timerPrecision(ctx context.Context, start StartFunc, url string, n int, d time.Duration) (timerResult, error) {
	var res timerResult
	r, err := start(ctx, url, []string{"timers", "rules", "workers"})
	if err != nil {
		return res, err
	}
	defer r.Stop()
	if err := r.Start(ctx); err != nil {
		return res, err
	}
	if _, err := r.Registry.RegisterPack(ctx, timerRulesPack(n)); err != nil {
		return res, fmt.Errorf("register %d timer rules: %w", n, err)
	}
	cutoff := time.Now().Add(d)
	rows, err := r.DB.Pool.Query(ctx, `SELECT id, next_fire_at FROM attune.timer WHERE enabled`)
	if err != nil {
		return res, fmt.Errorf("read timers: %w", err)
	}
	first := map[int64]time.Time{}
	var id int64
	var at time.Time
	if _, err := pgx.ForEachRow(rows, []any{&id, &at}, func() error { first[id] = at; return nil }); err != nil {
		return res, fmt.Errorf("read timers: %w", err)
	}
	res.Timers = len(first)
	// Ticks due up to the cutoff have a second and a half to be recorded.
	select {
	case <-ctx.Done():
		return res, ctx.Err()
	case <-time.After(time.Until(cutoff) + 1500*time.Millisecond):
	}
	for _, f := range first {
		if !f.After(cutoff) {
			res.Expected += int(cutoff.Sub(f)/time.Second) + 1
		}
	}
	rows, err = r.DB.Pool.Query(ctx, `
		SELECT extract(epoch FROM (ev.payload->>'fired_at')::timestamptz - ev.scheduled_at) * 1000,
		       ev.scheduled_at = min(ev.scheduled_at) OVER (PARTITION BY ev.timer_id),
		       extract(epoch FROM pg_xact_commit_timestamp(ev.xmin) - ev.scheduled_at) * 1000
		FROM attune.event ev WHERE ev.timer_id IS NOT NULL AND ev.scheduled_at <= $1`, cutoff)
	if err != nil {
		return res, fmt.Errorf("read ticks: %w", err)
	}
	var late, steady, committed []float64
	var ms, cms float64
	var firstTick bool
	if _, err := pgx.ForEachRow(rows, []any{&ms, &firstTick, &cms}, func() error {
		late = append(late, ms)
		committed = append(committed, cms)
		if !firstTick {
			steady = append(steady, ms)
		}
		return nil
	}); err != nil {
		return res, fmt.Errorf("read ticks: %w", err)
	}
	res.Lateness, res.Steady, res.Committed = Summarise(late), Summarise(steady), Summarise(committed)
	rows, err = r.DB.Pool.Query(ctx, `
		SELECT extract(epoch FROM j.attempted_at - (j.args->>'fire_at')::timestamptz) * 1000
		FROM river_job j WHERE j.kind = 'attune.timer.fire' AND j.state = 'completed'
		  AND (j.args->>'fire_at')::timestamptz <= $1`, cutoff)
	if err != nil {
		return res, fmt.Errorf("read fire jobs: %w", err)
	}
	var fetch []float64
	if _, err := pgx.ForEachRow(rows, []any{&ms}, func() error { fetch = append(fetch, ms); return nil }); err != nil {
		return res, fmt.Errorf("read fire jobs: %w", err)
	}
	res.Fetch = Summarise(fetch)
	var events, extraRuns int
	err = r.DB.Pool.QueryRow(ctx, `
		SELECT count(*), count(DISTINCT (ev.timer_id, ev.scheduled_at)),
		       coalesce(sum(GREATEST((SELECT count(*) FROM attune.enforcement n
		           JOIN attune.execution x ON x.enforcement_id = n.id AND x.attempt = 1
		           WHERE n.event_id = ev.id) - 1, 0)), 0)
		FROM attune.event ev WHERE ev.timer_id IS NOT NULL AND ev.scheduled_at <= $1`, cutoff).
		Scan(&events, &res.Fired, &extraRuns)
	if err != nil {
		return res, fmt.Errorf("count ticks: %w", err)
	}
	res.Missed = max(res.Expected-res.Fired, 0)
	res.Duplicates = events - res.Fired + extraRuns
	return res, nil
}
