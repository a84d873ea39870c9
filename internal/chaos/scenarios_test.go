// Package chaos_test kills, stops and restarts real attune processes and their PostgreSQL, and
// checks that no event is lost, no tick fires twice and no action runs twice unless its retry
// policy asks for it. Each scenario reports one row of the summary table.
package chaos_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// longAction sleeps in a grandchild, recording the pids, unless its marker says it ran before.
func longPack(marks string) map[string]string {
	return map[string]string{
		"pack.yaml": "ref: chaos\nversion: 1.0.0\n",
		"actions/long.yaml": "ref: long\nentry_point: long.sh\ntimeout: 60\n" +
			"retry: {count: 1, on: [abandoned]}\n",
		"actions/long.sh": `m='` + marks + `'
echo "$ATTUNE_EXECUTION_ID" >> "$m/runs"
if [ -e "$m/done-once" ]; then echo second; exit 0; fi
touch "$m/done-once"
echo $$ > "$m/action.pid"
sleep 60 &
echo $! > "$m/child.pid"
wait
`,
		"actions/hang.yaml": "ref: hang\nentry_point: hang.sh\ntimeout: 60\n",
		"actions/hang.sh": `m='` + marks + `'
echo $$ > "$m/hang.pid"
sleep 60 &
echo $! > "$m/hang-child.pid"
wait
`,
		"actions/short.yaml": "ref: short\nentry_point: short.sh\n",
		"actions/short.sh":   "echo $$ > '" + marks + "/short.pid'\nsleep 2\necho done\n",
	}
}

func marksDir(t *testing.T) string {
	d := t.TempDir()
	require.NoError(t, os.Chmod(d, 0o777))
	return d
}

// runBackground starts `attune run` without waiting for it.
func (c *cluster) runBackground(ref string) *exec.Cmd {
	cmd := exec.Command(binary, "run", ref)
	cmd.Env = c.env("cli")
	cmd.Dir = c.dataDir
	require.NoError(c.t, cmd.Start())
	c.t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return cmd
}

// firstAttempt waits for the running first attempt of an action and returns its id and worker.
func (c *cluster) firstAttempt(ref string) (int64, string) {
	c.t.Helper()
	var id int64
	var worker string
	require.Eventually(c.t, func() bool {
		err := c.db().QueryRow(context.Background(), `SELECT id, worker FROM attune.execution
			WHERE action_ref = $1 AND attempt = 1 AND status = 'running' ORDER BY id DESC LIMIT 1`, ref).Scan(&id, &worker)
		return err == nil
	}, 30*time.Second, 50*time.Millisecond, "%s never ran", ref)
	return id, worker
}

func TestWorkerCrashMidAction(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	c.start("crash-ctl", "timers,rules")
	w1 := c.start("crash-w1", "workers")
	c.waitReady("crash-ctl", "crash-w1")
	marks := marksDir(t)
	c.registerPack(longPack(marks))

	c.runBackground("chaos.long")
	id, worker := c.firstAttempt("chaos.long")
	require.Equal(t, "crash-w1", worker)
	actionPID := readPID(t, filepath.Join(marks, "action.pid"))
	childPID := readPID(t, filepath.Join(marks, "child.pid"))
	c.start("crash-w2", "workers") // will take the retry

	killed := time.Now()
	w1.kill9()
	require.Eventually(t, func() bool { st, _ := c.status(id); return st == "abandoned" }, 30*time.Second, 50*time.Millisecond)
	recover := time.Since(killed)
	_, reason := c.status(id)
	require.Contains(t, reason, "crash-w1", "the reason names the lost worker")
	require.Eventually(t, func() bool { return !alive(actionPID) && !alive(childPID) }, 5*time.Second, 50*time.Millisecond,
		"the action and its child died with their worker")

	// The retry policy (on: abandoned) runs a second attempt, on the surviving worker.
	var retryStatus, retryWorker string
	require.Eventually(t, func() bool {
		err := c.db().QueryRow(context.Background(), `SELECT status, worker FROM attune.execution WHERE original_id = $1 AND attempt = 2`, id).Scan(&retryStatus, &retryWorker)
		return err == nil && retryStatus == "completed"
	}, 30*time.Second, 50*time.Millisecond)
	require.Equal(t, "crash-w2", retryWorker)
	runs, err := os.ReadFile(filepath.Join(marks, "runs"))
	require.NoError(t, err)
	require.Equal(t, 2, strings.Count(string(runs), "\n"), "attempt 1 ran once, attempt 2 once: %q", runs)
	require.Equal(t, 1, c.scalar(`SELECT count(*) FROM attune.execution WHERE id = $1 OR original_id = $1 AND attempt > 2`, id))
	record(row{scenario: "1 worker kill -9 mid-action", expected: 1, seen: 1, completed: 2, recover: recover,
		note: "attempt 1 abandoned (worker named), child killed, retry (on: abandoned) completed on crash-w2"})
}

// With attune's default heartbeat and silent window (no override), a kill -9'd worker's
// execution is abandoned within 15 s.
func TestWorkerCrashDefaultDetection(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	c.defaultDetection = true
	c.start("dflt-ctl", "timers,rules")
	w := c.start("dflt-w1", "workers")
	c.waitReady("dflt-ctl", "dflt-w1")
	marks := marksDir(t)
	c.registerPack(longPack(marks))

	c.runBackground("chaos.hang")
	id, worker := c.firstAttempt("chaos.hang")
	require.Equal(t, "dflt-w1", worker)
	killed := time.Now()
	w.kill9()
	var st string
	for st, _ = c.status(id); st != "abandoned" && time.Since(killed) < 30*time.Second; st, _ = c.status(id) {
		time.Sleep(100 * time.Millisecond)
	}
	took := time.Since(killed)
	require.Equal(t, "abandoned", st)
	require.LessOrEqual(t, took, 15*time.Second, "abandoned %s after the kill, with the default worker.heartbeat and worker.silent_after", took)
	record(row{scenario: "1b worker kill -9, default heartbeat and silent_after", expected: 1, seen: 1, recover: took,
		note: "abandoned within 15 s of the kill"})
}

func TestGracefulShutdown(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	c.start("shut-ctl", "timers,rules")
	w := c.start("shut-w1", "workers", "ATTUNE_SHUTDOWN_GRACE=10s")
	c.waitReady("shut-ctl", "shut-w1")
	marks := marksDir(t)
	c.registerPack(longPack(marks))

	// Within the grace, a running action finishes and the replica exits 0.
	c.runBackground("chaos.short")
	id, _ := c.firstAttempt("chaos.short")
	began := time.Now()
	w.signal(syscall.SIGTERM)
	require.Equal(t, 0, w.wait(20*time.Second))
	st, _ := c.status(id)
	require.Equal(t, "completed", st, "the action finished within the grace")
	record(row{scenario: "3a SIGTERM, action shorter than grace", expected: 1, seen: 1, completed: 1, recover: time.Since(began),
		note: "action completed, exit 0"})

	// Past the grace, the action is killed and recorded abandoned, and the replica exits 0.
	w2 := c.start("shut-w2", "workers", "ATTUNE_SHUTDOWN_GRACE=1s")
	c.waitReady("shut-w2")
	c.runBackground("chaos.hang")
	id, _ = c.firstAttempt("chaos.hang")
	childPID := readPID(t, filepath.Join(marks, "hang-child.pid"))
	began = time.Now()
	w2.signal(syscall.SIGTERM)
	require.Equal(t, 0, w2.wait(30*time.Second))
	took := time.Since(began)
	st, reason := c.status(id)
	require.Equal(t, "abandoned", st)
	require.Contains(t, reason, "shut down")
	require.False(t, alive(childPID), "the action's processes were killed")
	record(row{scenario: "3b SIGTERM, action longer than grace (1s)", expected: 1, seen: 1, completed: 1, recover: took,
		note: "abandoned (worker shutdown), processes killed, exit 0"})

	// A second signal cuts a long grace short, and the state stays consistent.
	w3 := c.start("shut-w3", "workers", "ATTUNE_SHUTDOWN_GRACE=60s")
	c.waitReady("shut-w3")
	c.runBackground("chaos.hang")
	var id3 int64
	require.Eventually(t, func() bool { id3, _ = c.firstAttempt("chaos.hang"); return id3 != id }, 30*time.Second, 50*time.Millisecond)
	require.NotEqual(t, id, id3)
	began = time.Now()
	w3.signal(syscall.SIGTERM)
	time.Sleep(300 * time.Millisecond)
	w3.signal(syscall.SIGTERM)
	require.Equal(t, 0, w3.wait(20*time.Second))
	took = time.Since(began)
	require.Less(t, took, 15*time.Second, "the second signal did not wait out the 60s grace")
	st, _ = c.status(id3)
	require.Equal(t, "abandoned", st)
	record(row{scenario: "3c second SIGTERM during a 60s grace", expected: 1, seen: 1, completed: 1, recover: took,
		note: "fast exit 0, execution abandoned, none left running"})
}

const tickPack = `ref: tick
version: 1.0.0
`

func tickRule(name string, seconds int) string {
	return "ref: " + name + "\ntrigger_ref: core.intervaltimer\ntrigger_params: {interval: " +
		strconv.Itoa(seconds) + ", unit: seconds}\naction_ref: core.echo\naction_params: {message: \"{{ event.payload.scheduled_at }}\"}\n"
}

func TestReplicasExactlyOnce(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	// Three replicas boot together on a fresh database (their migrations race), each with its
	// own roles; two of them fire timers and two run actions.
	c.start("rep-a", "timers,rules")
	c.start("rep-b", "timers,workers")
	c.start("rep-c", "rules,workers")
	c.waitReady("rep-a", "rep-b", "rep-c")
	c.registerPack(map[string]string{
		"pack.yaml":     tickPack,
		"rules/t1.yaml": tickRule("t1", 1),
		"rules/t2.yaml": tickRule("t2", 1),
		"rules/t3.yaml": tickRule("t3", 1),
	})
	const perRule = 11
	require.Eventually(t, func() bool {
		ticks := c.timerTicks("tick")
		return len(ticks["tick.t1"]) >= perRule && len(ticks["tick.t2"]) >= perRule && len(ticks["tick.t3"]) >= perRule
	}, 40*time.Second, 200*time.Millisecond)
	for _, ref := range []string{"tick.t1", "tick.t2", "tick.t3"} {
		out, code := c.attune("rule", "disable", ref)
		require.Equal(t, 0, code, out)
	}
	time.Sleep(1500 * time.Millisecond) // in-flight executions finish

	ticks := c.timerTicks("tick")
	seen, missing, dups := 0, 0, 0
	for ref, ts := range ticks {
		seen += len(ts)
		for i := 1; i < len(ts); i++ {
			gap := ts[i].Sub(ts[i-1])
			require.True(t, gap > 0, "%s: duplicate tick at %s", ref, ts[i])
			if gap == 0 {
				dups++
			}
			missing += int(gap/time.Second) - 1
		}
	}
	require.Zero(t, missing, "no tick missing between the first and the last")
	require.Eventually(t, func() bool {
		_, done, _, _ := c.executionsPerEvent("tick")
		return done == seen
	}, 30*time.Second, 100*time.Millisecond)
	events, done, lost, duplicates := c.executionsPerEvent("tick")
	require.Equal(t, seen, events)
	require.Zero(t, lost)
	require.Zero(t, duplicates)
	require.Equal(t, events, c.scalar(`SELECT count(*) FROM attune.execution WHERE status = 'completed' AND enforcement_id IS NOT NULL`))

	workers := c.scalar(`SELECT count(DISTINCT worker) FROM attune.execution WHERE enforcement_id IS NOT NULL`)
	require.Equal(t, 2, workers, "executions spread over both worker replicas")
	require.Zero(t, c.scalar(`SELECT count(*) FROM attune.execution WHERE worker NOT IN ('rep-b', 'rep-c')`))

	// Accounting: one dispatch job per execution; no completion job (no retry policy) and no
	// status job (no rule on core.actiontrigger); one history row per transition
	// (scheduled, running, completed).
	require.Zero(t, c.scalar(`
		SELECT count(*) FROM attune.execution x WHERE
		  (SELECT count(*) FROM river_job j WHERE j.kind = 'attune.execution.dispatch' AND (j.args->>'execution_id')::bigint = x.id) <> 1
		  OR (SELECT count(*) FROM attune.execution_history h WHERE h.execution_id = x.id) <> 3`))
	require.Zero(t, c.scalar(`SELECT count(*) FROM river_job WHERE kind IN ('attune.execution.complete', 'attune.execution.status')`))
	record(row{scenario: "4 three replicas, 3 timers x 1s", expected: seen + missing, seen: seen, completed: done, duplicates: dups + duplicates, lost: lost + missing,
		note: "2 timer replicas compete; executions on rep-b and rep-c; job counts = 1 dispatch, 0 complete, 0 status per execution; 3 history rows"})
}

func TestDatabaseRestart(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	c.start("db-a", "timers,rules,workers")
	c.start("db-b", "workers")
	c.waitReady("db-a", "db-b")
	c.registerPack(map[string]string{
		"pack.yaml":     tickPack,
		"rules/t1.yaml": tickRule("t1", 1),
		"rules/t2.yaml": tickRule("t2", 1),
	})
	require.Eventually(t, func() bool { return len(c.timerTicks("tick")["tick.t1"]) >= 3 }, 20*time.Second, 100*time.Millisecond)

	restarted := time.Now()
	c.pgCtl("restart", "-m", "fast", "-w", "-l", filepath.Join(c.dataDir, "pg.log"))
	// Recovery: a tick scheduled after the restart ends in a completed execution.
	require.Eventually(t, func() bool {
		var n int
		err := c.db().QueryRow(context.Background(), `SELECT count(*) FROM attune.execution x
			JOIN attune.enforcement n ON n.id = x.enforcement_id JOIN attune.event ev ON ev.id = n.event_id
			WHERE ev.scheduled_at > $1 AND x.status = 'completed'`, restarted).Scan(&n)
		return err == nil && n > 0
	}, 60*time.Second, 100*time.Millisecond, "no completed execution after the restart")
	recover := time.Since(restarted)

	// A replica whose database is down at boot waits for it.
	c.pgCtl("stop", "-m", "fast", "-w")
	late := c.start("db-late", "workers")
	time.Sleep(2 * time.Second)
	c.pgCtl("start", "-w", "-o", c.startOpts(), "-l", filepath.Join(c.dataDir, "pg.log"))
	c.waitReady("db-late")
	require.Contains(t, late.logs.String(), "database not reachable; retrying")

	time.Sleep(3 * time.Second)
	for _, ref := range []string{"tick.t1", "tick.t2"} {
		out, code := c.attune("rule", "disable", ref)
		require.Equal(t, 0, code, out)
	}
	ticks := c.timerTicks("tick")
	seen, dups := 0, 0
	for _, ts := range ticks {
		seen += len(ts)
		for i := 1; i < len(ts); i++ {
			if !ts[i].After(ts[i-1]) {
				dups++
			}
		}
	}
	require.Zero(t, dups)
	var events, done, lost, duplicates int
	require.Eventually(t, func() bool {
		events, done, lost, duplicates = c.executionsPerEvent("tick")
		return lost == 0
	}, 60*time.Second, 200*time.Millisecond, "every accepted event ends in a terminal execution")
	require.Zero(t, duplicates)
	require.Equal(t, seen, events)
	collapsed := c.scalar(`SELECT coalesce(sum((payload->>'missed')::int), 0) FROM attune.event WHERE rule_ref LIKE 'tick.%'`)
	record(row{scenario: "5 pg_ctl restart -m fast under load, then a boot while it is down", expected: seen + collapsed, seen: seen, completed: done,
		duplicates: duplicates + dups, lost: lost, recover: recover,
		note: "ticks due while the database was down collapsed into catch-up fires (missed=" + strconv.Itoa(collapsed) + "); the late replica retried until the database came back"})
}

func TestTimersAcrossDowntime(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	r := c.start("down-a", "timers,rules,workers")
	c.waitReady("down-a")
	c.registerPack(map[string]string{"pack.yaml": tickPack, "rules/slow.yaml": tickRule("slow", 2)})
	require.Eventually(t, func() bool { return len(c.timerTicks("tick")["tick.slow"]) >= 2 }, 20*time.Second, 100*time.Millisecond)

	r.signal(syscall.SIGTERM)
	require.Equal(t, 0, r.wait(30*time.Second))
	before := len(c.timerTicks("tick")["tick.slow"])
	time.Sleep(6500 * time.Millisecond) // more than three intervals
	restarted := time.Now()
	c.start("down-b", "timers,rules,workers")
	var catchUp []struct {
		At     time.Time
		Missed int
	}
	require.Eventually(t, func() bool {
		rows, err := c.db().Query(context.Background(), `SELECT scheduled_at, (payload->>'missed')::int FROM attune.event
			WHERE rule_ref = 'tick.slow' ORDER BY scheduled_at OFFSET $1`, before)
		require.NoError(t, err)
		defer rows.Close()
		catchUp = catchUp[:0]
		for rows.Next() {
			var e struct {
				At     time.Time
				Missed int
			}
			require.NoError(t, rows.Scan(&e.At, &e.Missed))
			catchUp = append(catchUp, e)
		}
		return len(catchUp) >= 3
	}, 30*time.Second, 100*time.Millisecond)
	recover := time.Since(restarted)
	require.GreaterOrEqual(t, catchUp[0].Missed, 2, "one catch-up fire says how many ticks were missed")
	for _, e := range catchUp[1:] {
		require.Zero(t, e.Missed, "then the normal rhythm")
	}
	for i := 1; i < len(catchUp); i++ {
		gap := catchUp[i].At.Sub(catchUp[i-1].At)
		require.Zero(t, gap%(2*time.Second), "ticks stay on the 2 s grid")
		require.Positive(t, gap)
	}
	record(row{scenario: "6a all replicas down for 3+ intervals (2s timer)", expected: 1, seen: 1, completed: 1, recover: recover,
		note: "exactly one catch-up fire, missed=" + strconv.Itoa(catchUp[0].Missed) + ", then on the grid"})

	// Disabling stops the timer within a tick and cancels its pending fire job.
	out, code := c.attune("rule", "disable", "tick.slow")
	require.Equal(t, 0, code, out)
	disabled := time.Now()
	// A fire job that is running at that moment (it wakes up early and snoozes until its time)
	// is marked for cancellation and ends cancelled when it returns.
	require.Eventually(t, func() bool {
		return c.jobState(`SELECT j.state FROM attune.timer t JOIN attune.rule r ON r.id = t.rule_id
			JOIN river_job j ON j.id = t.fire_job_id WHERE r.ref = 'tick.slow'`) == "cancelled"
	}, 10*time.Second, 50*time.Millisecond, "the pending fire job ends cancelled")
	n := len(c.timerTicks("tick")["tick.slow"])
	time.Sleep(4500 * time.Millisecond)
	require.Equal(t, n, len(c.timerTicks("tick")["tick.slow"]), "no tick after disable")

	out, code = c.attune("rule", "enable", "tick.slow")
	require.Equal(t, 0, code, out)
	require.Eventually(t, func() bool { return len(c.timerTicks("tick")["tick.slow"]) > n }, 10*time.Second, 100*time.Millisecond, "re-enabled timer fires again")
	record(row{scenario: "6b disable, then re-enable", expected: 0, seen: 0, recover: time.Since(disabled),
		note: "pending fire job cancelled in river_job; no tick while disabled; resumes on enable"})

	// Removing the rule from its pack stops the timer for good.
	c.registerPack(map[string]string{"pack.yaml": tickPack})
	require.Zero(t, c.scalar(`SELECT count(*) FROM attune.rule WHERE ref = 'tick.slow'`))
	require.Zero(t, c.scalar(`SELECT count(*) FROM river_job WHERE kind = 'attune.timer.fire' AND state IN ('scheduled', 'available')`))
	n = len(c.timerTicks("tick")["tick.slow"])
	time.Sleep(4500 * time.Millisecond)
	require.Equal(t, n, len(c.timerTicks("tick")["tick.slow"]))
	record(row{scenario: "6c rule removed from its pack", note: "fire job cancelled; no tick after removal"})
}

func (c *cluster) jobState(q string) string {
	c.t.Helper()
	var s string
	require.NoError(c.t, c.db().QueryRow(context.Background(), q).Scan(&s))
	return s
}
