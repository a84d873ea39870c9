package bench

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/db"
	"github.com/attune-run/attune/jobs"
)

// backlogDB holds n scheduled noop executions, each with its dispatch job, on a paused noop
// queue: the scale-out runs copy it, start their worker replicas, and resume the queue.
const backlogDB = "bench_backlog"

// noopQueue is the queue of the noop runtime's dispatch jobs.
var noopQueue = jobs.RuntimeQueue(attune.RuntimeNoop)

// buildBacklog records n noop events and runs attune's own rules step (ProcessEvent: criteria,
// enforcement, execution, dispatch and status jobs) on them in batches, a few transactions at
// once, with the noop queue paused so nothing runs the executions yet. It skips only the River
// round trip of each event's job, to build the backlog in seconds rather than a minute.
func buildBacklog(ctx context.Context, start StartFunc, url string, n int) error {
	r, err := start(ctx, url, nil)
	if err != nil {
		return err
	}
	defer r.Stop()
	now := time.Now()
	if _, err := riverpgxv5.New(r.DB.Pool).GetExecutor().QueueCreateOrSetUpdatedAt(ctx, &riverdriver.QueueCreateOrSetUpdatedAtParams{
		Name: noopQueue, Metadata: []byte("{}"), PausedAt: &now, Schema: db.RiverSchema,
	}); err != nil {
		return fmt.Errorf("pause queue %s: %w", noopQueue, err)
	}
	const batch, parallel = 250, 4
	lows := make(chan int)
	errs := make(chan error, parallel)
	var wg sync.WaitGroup
	for range parallel {
		wg.Go(func() {
			for lo := range lows {
				if err := processBatch(ctx, r, lo, min(lo+batch, n)); err != nil {
					errs <- fmt.Errorf("backlog events %d-%d: %w", lo, min(lo+batch, n)-1, err)
					return
				}
			}
		})
	}
	for lo := 0; lo < n; lo += batch {
		select {
		case lows <- lo:
		case err := <-errs:
			close(lows)
			wg.Wait()
			return err
		}
	}
	close(lows)
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
	}
	var made int
	if err := r.DB.Pool.QueryRow(ctx, `SELECT count(*) FROM attune.execution WHERE status = 'scheduled'`).Scan(&made); err != nil {
		return err
	}
	if made != n {
		return fmt.Errorf("backlog: %d executions scheduled for %d events", made, n)
	}
	return nil
}

// processBatch records events [lo, hi) and processes them in one transaction.
func processBatch(ctx context.Context, r *Replica, lo, hi int) error {
	return r.DB.InTx(ctx, func(q *db.Queries) error {
		rows, err := q.Tx().Query(ctx, `INSERT INTO attune.event (trigger_ref, payload)
			SELECT $1, jsonb_build_object('n', g) FROM generate_series($2::int, $3::int) g RETURNING id, created_at`,
			triggerNoop, lo, hi-1)
		if err != nil {
			return err
		}
		var evs []attune.Event
		var ev attune.Event
		if _, err := pgx.ForEachRow(rows, []any{&ev.ID, &ev.CreatedAt}, func() error {
			ev.TriggerRef, ev.Payload = triggerNoop, map[string]any{"n": float64(lo + len(evs))}
			evs = append(evs, ev)
			return nil
		}); err != nil {
			return err
		}
		for _, ev := range evs {
			if err := r.P.ProcessEvent(ctx, q, ev); err != nil {
				return err
			}
		}
		return nil
	})
}

// scaleResult is one scale-out run.
type scaleResult struct {
	Replicas int
	PerS     float64 // executions terminal per second within the window
	Window   time.Duration
	PeakRSS  []float64 // MB, per worker process (VmHWM)
	RSSErr   error     // why PeakRSS is missing (no /proc)
	CPU      cpuUse
	Cost     CPUCost // per execution: postgres, and this process (the rules role) with the workers
	Drained  int     // executions the run waited for: the whole backlog, or those of the window
}

// scaleOut works the backlog copied into url with replicas worker processes (`attune start
// --roles workers`) while this process runs the rules role (status and completion jobs). The
// clock starts when every replica is up and the noop queue is resumed; the rate counts the
// executions that reach a terminal status within window. With drain set the run goes on until
// the whole backlog is done (the memory figure needs that); otherwise it stops after the window.
func scaleOut(ctx context.Context, start StartFunc, postmaster int, binary, url string, replicas, n int, window time.Duration, drain bool) (scaleResult, error) {
	res := scaleResult{Replicas: replicas, Window: window}
	r, err := start(ctx, url, []string{"rules"})
	if err != nil {
		return res, err
	}
	defer r.Stop()
	if err := r.Start(ctx); err != nil {
		return res, err
	}
	var procs []*workerProc
	defer func() {
		for _, p := range procs {
			p.stop()
		}
	}()
	for i := range replicas {
		p, err := startWorker(binary, url, fmt.Sprintf("bench-worker-%d-of-%d", i+1, replicas))
		if err != nil {
			return res, err
		}
		procs = append(procs, p)
	}
	var up int
	err = waitFor(ctx, time.Minute, func() (bool, error) {
		for _, p := range procs {
			if p.exited() {
				return false, fmt.Errorf("worker replica %s exited early: %s", p.name, p.output())
			}
		}
		err := r.DB.Pool.QueryRow(ctx, `SELECT count(*) FROM attune.worker WHERE name LIKE 'bench-worker-%'`).Scan(&up)
		return up >= replicas, err
	})
	if err != nil {
		return res, fmt.Errorf("%d of %d worker replicas up: %w", up, replicas, err)
	}
	pids := make([]int, len(procs))
	for i, p := range procs {
		pids[i] = p.cmd.Process.Pid
	}
	cpu0 := sampleCPU(postmaster, pids...)
	t0 := cpu0.at
	if err := r.River.QueueResume(ctx, noopQueue, nil); err != nil {
		return res, fmt.Errorf("resume queue %s: %w", noopQueue, err)
	}
	select {
	case <-ctx.Done():
		return res, ctx.Err()
	case <-time.After(window):
	}
	cpu1 := sampleCPU(postmaster, pids...)
	var inWindow int
	if err := r.DB.Pool.QueryRow(ctx, `SELECT count(*) FROM attune.execution
		WHERE finished_at IS NOT NULL AND pg_xact_commit_timestamp(xmin) <= $1`, t0.Add(window)).Scan(&inWindow); err != nil {
		return res, fmt.Errorf("count executions of the window: %w", err)
	}
	res.PerS = Rate(inWindow, window)
	res.CPU = cpu0.to(cpu1)
	res.Cost = cpuPer(cpu0, cpu1, inWindow)
	res.Drained = inWindow
	if drain {
		if err := waitTerminal(ctx, r.DB, n, drainTimeout(n)); err != nil {
			return res, err
		}
		res.Drained = n
	}
	for _, p := range procs {
		mb, err := peakRSS(p.cmd.Process.Pid)
		if err != nil {
			res.RSSErr = err
			break
		}
		res.PeakRSS = append(res.PeakRSS, mb)
	}
	return res, nil
}

// workerProc is one `attune start --roles workers` child.
type workerProc struct {
	name string
	cmd  *exec.Cmd
	out  *bytes.Buffer
	done chan struct{}
}

// startWorker starts a worker replica on the database at url. It inherits this process's
// environment and working directory, so it reads the same configuration; only the database,
// its name, the roles and the log level are set here. The URL names a unix socket and carries
// no password.
func startWorker(binary, url, name string) (*workerProc, error) {
	cmd := exec.Command(binary, "start", "--roles", "workers", "--log-level", "warn")
	cmd.Env = append(os.Environ(),
		"ATTUNE_DATABASE_URL="+url, "ATTUNE_WORKER_NAME="+name, "ATTUNE_PACKS_DEMO=false")
	out := &bytes.Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = childAttr()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start worker replica %s (%s): %w", name, binary, err)
	}
	p := &workerProc{name: name, cmd: cmd, out: out, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

func (p *workerProc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// output is what the replica logged, for an error message. Read it only once it exited.
func (p *workerProc) output() string { return strings.TrimSpace(p.out.String()) }

// stop sends SIGTERM and waits for a graceful exit, killing the replica after a while.
func (p *workerProc) stop() {
	if p.exited() {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// peakRSS reads the peak resident set size (VmHWM) of process pid, in MB.
func peakRSS(pid int) (float64, error) {
	path := "/proc/" + strconv.Itoa(pid) + "/status"
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("peak RSS of worker replica %d: %w", pid, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			if err != nil {
				return 0, fmt.Errorf("%s: VmHWM %q: %w", path, rest, err)
			}
			return kb / 1024, nil
		}
	}
	return 0, errors.Join(sc.Err(), fmt.Errorf("%s has no VmHWM line", path))
}
