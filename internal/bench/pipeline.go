package bench

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/attune-run/attune/db"
	"github.com/attune-run/attune/jobs"
)

// Roles of the in-process replica of the pipeline phases ("attune start" without timers).
var pipelineRoles = []string{"rules", "workers"}

// throughput is the outcome of draining a backlog of events.
type throughput struct {
	PerS     float64       // executions reaching a terminal status per second
	Elapsed  time.Duration // from River's start to the last terminal commit
	NotOK    int           // executions that ended other than completed
	Pending  int           // River jobs still waiting when the last execution finished
	Executed int
	CPU      cpuUse  // from River's start to the last terminal execution
	CPUms    float64 // CPU ms of postgres and the replica per execution
}

// preloadEvents inserts n events of trigger and their attune.event.process jobs, in batches,
// each batch in one transaction with InsertManyTx: what n EmitEvent calls would leave behind.
func preloadEvents(ctx context.Context, r *Replica, trigger string, n int) error {
	return insertChunked(ctx, r.DB.Pool, func(tx pgx.Tx, lo, hi int) error {
		rows, err := tx.Query(ctx, `INSERT INTO attune.event (trigger_ref, payload)
			SELECT $1, jsonb_build_object('n', g) FROM generate_series($2::int, $3::int) g RETURNING id`,
			trigger, lo, hi-1)
		if err != nil {
			return err
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return err
		}
		params := make([]river.InsertManyParams, len(ids))
		for i, id := range ids {
			params[i] = river.InsertManyParams{Args: jobs.EventProcessArgs{EventID: id}}
		}
		_, err = r.River.InsertManyTx(ctx, tx, params)
		return err
	}, n)
}

// drainEvents measures the pipeline throughput: n events of trigger go through
// attune.event.process, enforcement, dispatch and the action on a replica started after they
// were all inserted.
func drainEvents(ctx context.Context, start StartFunc, url, trigger string, n int) (throughput, error) {
	var res throughput
	r, err := start(ctx, url, pipelineRoles)
	if err != nil {
		return res, err
	}
	defer r.Stop()
	if err := preloadEvents(ctx, r, trigger, n); err != nil {
		return res, fmt.Errorf("preload %d events: %w", n, err)
	}
	cpu0 := sampleCPU()
	t0 := cpu0.at
	if err := r.Start(ctx); err != nil {
		return res, err
	}
	if err := waitTerminal(ctx, r.DB, n, drainTimeout(n)); err != nil {
		return res, err
	}
	cpu1 := sampleCPU()
	res.CPU = cpu0.to(cpu1)
	res.CPUms = res.CPU.msPer(n, cpu1.at.Sub(t0))
	var last time.Time
	err = r.DB.Pool.QueryRow(ctx, `SELECT max(pg_xact_commit_timestamp(xmin)),
			count(*) FILTER (WHERE status <> 'completed'), count(*),
			(SELECT count(*) FROM river_job WHERE state IN ('available', 'scheduled', 'running', 'retryable'))
		FROM attune.execution`).Scan(&last, &res.NotOK, &res.Executed, &res.Pending)
	if err != nil {
		return res, fmt.Errorf("read drain times: %w", err)
	}
	res.Elapsed = last.Sub(t0)
	res.PerS = Rate(n, res.Elapsed)
	return res, nil
}

// waitTerminal waits until n executions are terminal.
func waitTerminal(ctx context.Context, d *db.DB, n int, within time.Duration) error {
	var done int
	err := waitFor(ctx, within, func() (bool, error) {
		err := d.Pool.QueryRow(ctx, `SELECT count(*) FROM attune.execution WHERE finished_at IS NOT NULL`).Scan(&done)
		return done >= n, err
	})
	if err != nil {
		return fmt.Errorf("%d of %d executions terminal: %w", done, n, err)
	}
	return nil
}

// latency is the outcome of the steady-rate phase.
type latency struct {
	Terminal Percentiles // event committed -> execution terminal committed, ms
	Start    Percentiles // event committed -> execution claimed (the action starts), ms
	// The hops behind Terminal: event committed -> its attune.event.process job fetched ->
	// enforcement committed -> dispatch job fetched -> execution claimed -> terminal.
	EventFetch, EventWork, DispatchFetch, Claim, Run Percentiles
	Emitted                                          int
	Rate                                             float64 // events per second actually emitted
	CPU                                              cpuUse  // while the events were emitted
}

// String is the phase's progress line.
func (l latency) String() string {
	return fmt.Sprintf("p50 %.1f ms, p99 %.1f ms (p50 per hop: event job fetched %.1f, enforced %.1f, dispatch job fetched %.1f, claimed %.1f, terminal %.1f); %s",
		l.Terminal.P50, l.Terminal.P99, l.EventFetch.P50, l.EventWork.P50, l.DispatchFetch.P50, l.Claim.P50, l.Run.P50, l.CPU)
}

// steadyLatency emits events of trigger at rate per second for d (after a one-second warm-up
// that is not counted), one EmitEvent transaction each, on a running replica, and measures
// each event's commit to its execution's claim and terminal commits.
func steadyLatency(ctx context.Context, start StartFunc, url, trigger string, rate int, d time.Duration) (latency, error) {
	var res latency
	r, err := start(ctx, url, pipelineRoles)
	if err != nil {
		return res, err
	}
	defer r.Stop()
	if err := r.Start(ctx); err != nil {
		return res, err
	}
	warm := rate // one second
	total := warm + int(float64(rate)*d.Seconds())
	every := time.Second / time.Duration(rate)
	t0 := time.Now()
	var measuredFrom time.Time
	var cpu0 cpuSample
	for i := range total {
		if i == warm {
			cpu0 = sampleCPU()
			measuredFrom = cpu0.at
		}
		if wait := time.Until(t0.Add(time.Duration(i) * every)); wait > 0 {
			time.Sleep(wait)
		}
		payload := map[string]any{"i": i}
		if i < warm {
			payload["warmup"] = true
		}
		if _, err := r.P.EmitEvent(ctx, db.NewEvent{TriggerRef: trigger, Payload: payload}); err != nil {
			return res, fmt.Errorf("emit event %d: %w", i, err)
		}
	}
	res.Emitted = total - warm
	res.Rate = Rate(res.Emitted, time.Since(measuredFrom))
	res.CPU = cpu0.to(sampleCPU())
	if err := waitTerminal(ctx, r.DB, total, 30*time.Second); err != nil {
		return res, err
	}
	rows, err := r.DB.Pool.Query(ctx, `
		WITH t AS (
			SELECT pg_xact_commit_timestamp(ev.xmin) AS emitted, ej.attempted_at AS event_fetched,
			       pg_xact_commit_timestamp(n.xmin) AS enforced, dj.attempted_at AS dispatch_fetched,
			       pg_xact_commit_timestamp(h.xmin) AS claimed, pg_xact_commit_timestamp(x.xmin) AS terminal
			FROM attune.event ev
			JOIN attune.enforcement n ON n.event_id = ev.id
			JOIN attune.execution x ON x.enforcement_id = n.id
			JOIN attune.execution_history h ON h.execution_id = x.id AND h.to_status = 'running'
			JOIN river_job ej ON ej.kind = 'attune.event.process' AND (ej.args->>'event_id')::bigint = ev.id
			JOIN river_job dj ON dj.kind = 'attune.execution.dispatch' AND (dj.args->>'execution_id')::bigint = x.id
			WHERE ev.payload->>'warmup' IS NULL)
		SELECT extract(epoch FROM terminal - emitted) * 1000, extract(epoch FROM claimed - emitted) * 1000,
		       extract(epoch FROM event_fetched - emitted) * 1000, extract(epoch FROM enforced - event_fetched) * 1000,
		       extract(epoch FROM dispatch_fetched - enforced) * 1000, extract(epoch FROM claimed - dispatch_fetched) * 1000,
		       extract(epoch FROM terminal - claimed) * 1000
		FROM t`)
	if err != nil {
		return res, fmt.Errorf("read latencies: %w", err)
	}
	var cols [7][]float64
	var v [7]float64
	_, err = pgx.ForEachRow(rows, []any{&v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6]}, func() error {
		for i := range cols {
			cols[i] = append(cols[i], v[i])
		}
		return nil
	})
	if err != nil {
		return res, fmt.Errorf("read latencies: %w", err)
	}
	res.Terminal, res.Start = Summarise(cols[0]), Summarise(cols[1])
	res.EventFetch, res.EventWork, res.DispatchFetch = Summarise(cols[2]), Summarise(cols[3]), Summarise(cols[4])
	res.Claim, res.Run = Summarise(cols[5]), Summarise(cols[6])
	return res, nil
}
