package bench

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/attune-run/attune/db"
	"github.com/attune-run/attune/jobs"
)

// drainPollEvery is how often a throughput run checks whether it is done.
const drainPollEvery = 100 * time.Millisecond

// Roles of the in-process replica of the pipeline phases ("attune start" without timers).
var pipelineRoles = []string{"rules", "workers"}

// throughput is the outcome of draining a backlog of events.
type throughput struct {
	// PerS is executions per second over Elapsed.
	PerS float64
	// Elapsed is from River's start until the run is done: every execution terminal and every
	// River job the run inserted finished (their last commits).
	Elapsed time.Duration
	// ExecElapsed is from River's start to the last terminal execution; Drain is what the
	// jobs still queued then (JobsAfter of them) took to finish after it.
	ExecElapsed, Drain time.Duration
	JobsAfter          int
	NotOK              int // executions that ended other than completed
	Executed           int
	CPU                cpuUse // from River's start until the run was done
	Cost               execCost
}

// String is the phase's progress line.
func (t throughput) String() string {
	return fmt.Sprintf("%d executions at %s/s, every job finished %.1f s after the start (the last execution at %.1f s; %d jobs finished after it, in %.1f s); %s; %s",
		t.Executed, num(t.PerS), t.Elapsed.Seconds(), t.ExecElapsed.Seconds(), t.JobsAfter, t.Drain.Seconds(), t.CPU, t.Cost)
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

// drainEvents measures the pipeline throughput and the cost of one execution: n events of
// trigger go through attune.event.process, enforcement, dispatch and the action on a replica
// started after they were all inserted, in database dbname of cl, until every execution is
// terminal and every job the run inserted has finished.
func drainEvents(ctx context.Context, cl *cluster, start StartFunc, dbname, trigger string, n int) (throughput, error) {
	var res throughput
	url := cl.url(dbname)
	r, err := start(ctx, url, pipelineRoles)
	if err != nil {
		return res, err
	}
	stop := sync.OnceFunc(r.Stop)
	defer stop()
	obs, err := openObserver(ctx, url)
	if err != nil {
		return res, err
	}
	defer obs.close(ctx)
	var jobs0 int64
	if err := obs.scan(ctx, `SELECT coalesce(max(id), 0) FROM river_job`, nil, &jobs0); err != nil {
		return res, fmt.Errorf("read river_job: %w", err)
	}
	if err := preloadEvents(ctx, r, trigger, n); err != nil {
		return res, fmt.Errorf("preload %d events: %w", n, err)
	}
	// The preload's few commits (one per 2,000 events) may be reported after this reading.
	c0, err := cl.counters(ctx, dbname)
	if err != nil {
		return res, err
	}
	own0 := obs.queries
	cpu0 := sampleCPU(cl.postmaster)
	t0 := cpu0.at
	if err := r.Start(ctx); err != nil {
		return res, err
	}
	if err := waitDrained(ctx, obs, n, jobs0, drainTimeout(n)); err != nil {
		return res, err
	}
	cpu1 := sampleCPU(cl.postmaster)
	res.CPU = cpu0.to(cpu1)
	inserted, err := res.read(ctx, obs, t0, jobs0)
	if err != nil {
		return res, err
	}
	own := obs.queries - own0
	// Every backend reports its commits when it exits at the latest: close them all, then read.
	stop()
	obs.close(ctx)
	if err := cl.waitNoBackends(ctx, dbname); err != nil {
		return res, err
	}
	c1, err := cl.counters(ctx, dbname)
	if err != nil {
		return res, err
	}
	// The database is a fresh copy of the template, whose executions table is empty.
	upd, hot, err := cl.executionUpdates(ctx, dbname)
	if err != nil {
		return res, err
	}
	res.Cost = execCost{
		CPU:        cpuPer(cpu0, cpu1, res.Executed),
		Statements: perExec(c0.statements, c1.statements, own, res.Executed),
		Commits:    perExec(c0.commits, c1.commits, own, res.Executed),
		RiverJobs:  perExec(0, inserted, 0, res.Executed),
		Updates:    perExec(0, upd, 0, res.Executed),
		HOTUpdates: perExec(0, hot, 0, res.Executed),
	}
	return res, nil
}

// read fills in the run's times and outcomes from the rows, for a run started at t0 whose River
// jobs are those after id jobs0, and returns how many River jobs it inserted.
func (t *throughput) read(ctx context.Context, o *observer, t0 time.Time, jobs0 int64) (int64, error) {
	var lastExec, lastJob time.Time
	if err := o.scan(ctx, `SELECT max(pg_xact_commit_timestamp(xmin)), count(*) FILTER (WHERE status <> 'completed'), count(*)
		FROM attune.execution`, nil, &lastExec, &t.NotOK, &t.Executed); err != nil {
		return 0, fmt.Errorf("read drain times: %w", err)
	}
	var inserted int64
	if err := o.scan(ctx, `SELECT count(*), max(pg_xact_commit_timestamp(xmin)), count(*) FILTER (WHERE pg_xact_commit_timestamp(xmin) > $2)
		FROM river_job WHERE id > $1`, []any{jobs0, lastExec}, &inserted, &lastJob, &t.JobsAfter); err != nil {
		return 0, fmt.Errorf("read the run's River jobs: %w", err)
	}
	t.ExecElapsed = lastExec.Sub(t0)
	t.Drain = max(lastJob.Sub(lastExec), 0)
	t.Elapsed = t.ExecElapsed + t.Drain
	t.PerS = Rate(t.Executed, t.Elapsed)
	return inserted, nil
}

// waitDrained waits until n executions are terminal and every River job after id from has
// finished, but the periodic maintenance jobs a replica inserts on its own. Each check is one
// cheap query on o (about 0.3 ms of server CPU), every drainPollEvery: the end time comes from
// commit timestamps, so a slower poll only keeps the cluster's CPU figure cleaner.
func waitDrained(ctx context.Context, o *observer, n int, from int64, within time.Duration) error {
	var busy bool
	var done int
	err := waitForEvery(ctx, drainPollEvery, within, func() (bool, error) {
		err := o.scan(ctx, `SELECT EXISTS (SELECT 1 FROM river_job
			WHERE state IN ('available', 'pending', 'retryable', 'running', 'scheduled') AND id > $1 AND kind NOT IN ($2, $3))`,
			[]any{from, jobs.KindRetentionPrune, jobs.KindTimerReconcile}, &busy)
		if err != nil || busy {
			return false, err
		}
		err = o.scan(ctx, `SELECT count(*) FROM attune.execution WHERE finished_at IS NOT NULL`, nil, &done)
		return done >= n, err
	})
	if err != nil {
		return fmt.Errorf("%d of %d executions terminal, River jobs still unfinished: %t: %w", done, n, busy, err)
	}
	return nil
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
func steadyLatency(ctx context.Context, start StartFunc, postmaster int, url, trigger string, rate int, d time.Duration) (latency, error) {
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
			cpu0 = sampleCPU(postmaster)
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
	res.CPU = cpu0.to(sampleCPU(postmaster))
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
