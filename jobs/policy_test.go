package jobs_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/db"
	"github.com/attune-run/attune/engine"
	"github.com/attune-run/attune/internal/attunetest"
	"github.com/attune-run/attune/jobs"
)

// countSh keeps, under a file lock, how many of its runs for one key run at once and the most it
// ever saw, then sleeps: the action itself witnesses its concurrency.
const countSh = `eval "$(cat)"
k="$dir/${environment:-all}"
flock "$k.lock" sh -c 'n=$(( $(cat "$1.running" 2>/dev/null || echo 0) + 1 )); echo $n > "$1.running"; m=$(cat "$1.max" 2>/dev/null || echo 0); if [ $n -gt $m ]; then echo $n > "$1.max"; fi' _ "$k"
sleep "$seconds"
flock "$k.lock" sh -c 'echo $(( $(cat "$1.running") - 1 )) > "$1.running"' _ "$k"
`

func policyPack(policy string) map[string]string {
	return map[string]string{
		"pack.yaml": "ref: pol\nversion: 1.0.0\n",
		"actions/work.yaml": `ref: work
runner_type: shell
entry_point: work.sh
parameter_format: dotenv
parameters:
  dir: {type: string, required: true}
  environment: {type: string, default: all}
  seconds: {type: number, default: 0.2}
`,
		"actions/work.sh":     countSh,
		"policies/limit.yaml": policy,
	}
}

// maxSeen reads the most concurrent runs the action saw for key.
func maxSeen(t *testing.T, dir, key string) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, key+".max"))
	require.NoError(t, err)
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	require.NoError(t, err)
	return n
}

// admissionOrder lists execution ids in the order they were scheduled.
func admissionOrder(t *testing.T, e *attunetest.Env) []int64 {
	t.Helper()
	rows, err := e.DB.Pool.Query(context.Background(),
		`SELECT execution_id FROM attune.execution_history WHERE to_status = 'scheduled' ORDER BY id`)
	require.NoError(t, err)
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	require.NoError(t, err)
	return ids
}

// addWorker starts a second replica working the runtime and event queues with its own copy of
// the pipeline.
func addWorker(t *testing.T, e *attunetest.Env, name string) {
	t.Helper()
	e.Replica(t, name, engine.RoleWorkers, engine.RoleRules)
}

// threshold N is never exceeded with two replicas of ten workers each, every execution
// completes, and waiters are admitted first come, first served.
func TestConcurrencyPolicyHoldsAcrossWorkers(t *testing.T) {
	t.Parallel()
	e := attunetest.New(t)
	addWorker(t, e, "replica-2")
	ctx := context.Background()
	registerPack(t, e, policyPack(`name: work.concurrency
pack: pol
resource_ref: pol.work
policy_type: action.concurrency
parameters: {threshold: 2, action: delay}
`))
	dir := t.TempDir()
	var ids []int64
	for range 12 {
		x, err := e.P.Run(ctx, "pol.work", map[string]any{"dir": dir}, 0)
		require.NoError(t, err)
		ids = append(ids, x.ID)
	}
	ps, err := e.DB.AutoCommit().Policies(ctx)
	require.NoError(t, err)
	require.Len(t, ps, 1)
	require.Equal(t, 2, ps[0].Threshold)
	require.Positive(t, ps[0].Waiting, "later executions wait in requested")

	workers := map[string]bool{}
	for _, id := range ids {
		x := e.WaitTerminal(t, id, 60*time.Second)
		require.Equal(t, attune.StatusCompleted, x.Status, x.Error)
		workers[x.Worker] = true
	}
	require.Equal(t, 2, maxSeen(t, dir, "all"), "at most (and, with 20 workers, exactly) 2 ran at once")
	require.Len(t, workers, 2, "both replicas ran executions")
	require.Equal(t, ids, admissionOrder(t, e), "admitted in order of creation")
	ps, err = e.DB.AutoCommit().Policies(ctx)
	require.NoError(t, err)
	require.Zero(t, ps[0].Held, "no slot leaked")
	require.Zero(t, ps[0].Waiting)
}

// cancel mode ends an execution that finds every slot taken, naming the policy.
func TestConcurrencyPolicyCancel(t *testing.T) {
	t.Parallel()
	e := attunetest.New(t)
	ctx := context.Background()
	registerPack(t, e, policyPack(`name: one_at_a_time
resource_ref: work
policy_type: action.concurrency
parameters: {threshold: 1, action: cancel}
`))
	dir := t.TempDir()
	first, err := e.P.Run(ctx, "pol.work", map[string]any{"dir": dir, "seconds": 2}, 0)
	require.NoError(t, err)
	second, err := e.P.Run(ctx, "pol.work", map[string]any{"dir": dir}, 0)
	require.NoError(t, err)
	require.Equal(t, attune.StatusCancelled, second.Status)
	require.Equal(t, "cancelled by policy pol.one_at_a_time: 1 of 1 slots in use", second.Error)
	require.Equal(t, attune.StatusCompleted, e.WaitTerminal(t, first.ID, 30*time.Second).Status)
	third, err := e.P.Run(ctx, "pol.work", map[string]any{"dir": dir}, 0)
	require.NoError(t, err)
	require.Equal(t, attune.StatusScheduled, third.Status, "the slot came back")
	require.Equal(t, attune.StatusCompleted, e.WaitTerminal(t, third.ID, 30*time.Second).Status)
}

// attr mode: one execution per environment, with two environments running side by side.
func TestConcurrencyPolicyPerAttribute(t *testing.T) {
	t.Parallel()
	e := attunetest.New(t)
	ctx := context.Background()
	registerPack(t, e, policyPack(`name: one_per_env
resource_ref: pol.work
policy_type: action.concurrency.attr
parameters: {threshold: 1, attributes: [environment]}
`))
	dir := t.TempDir()
	var ids []int64
	for range 3 {
		for _, env := range []string{"prod", "staging"} {
			x, err := e.P.Run(ctx, "pol.work", map[string]any{"dir": dir, "environment": env, "seconds": 0.5}, 0)
			require.NoError(t, err)
			ids = append(ids, x.ID)
		}
	}
	var xs []attune.Execution
	for _, id := range ids {
		x := e.WaitTerminal(t, id, 60*time.Second)
		require.Equal(t, attune.StatusCompleted, x.Status, x.Error)
		xs = append(xs, x)
	}
	require.Equal(t, 1, maxSeen(t, dir, "prod"))
	require.Equal(t, 1, maxSeen(t, dir, "staging"))
	overlap := false
	for _, a := range xs {
		for _, b := range xs {
			if a.Parameters["environment"] == "prod" && b.Parameters["environment"] == "staging" &&
				a.StartedAt.Before(*b.FinishedAt) && b.StartedAt.Before(*a.FinishedAt) {
				overlap = true
			}
		}
	}
	require.True(t, overlap, "prod and staging ran side by side")
}

// A worker that dies holding a slot: the reaper abandons its execution, which gives the slot to
// the next waiter in the same transaction.
func TestReapedExecutionFreesItsSlot(t *testing.T) {
	t.Parallel()
	e := attunetest.New(t, attunetest.Options{NoStart: true})
	ctx := context.Background()
	registerPack(t, e, policyPack(`name: limit
resource_ref: pol.work
policy_type: action.concurrency
parameters: {threshold: 1}
`))
	holder, err := e.P.Run(ctx, "pol.work", map[string]any{"dir": "/nonexistent"}, 0)
	require.NoError(t, err)
	require.Equal(t, attune.StatusScheduled, holder.Status)
	gone, err := e.P.Run(ctx, "pol.work", map[string]any{"dir": "/nonexistent"}, 0)
	require.NoError(t, err)
	require.Equal(t, attune.StatusRequested, gone.Status)
	waiter, err := e.P.Run(ctx, "pol.work", map[string]any{"dir": "/nonexistent"}, 0)
	require.NoError(t, err)
	require.Equal(t, attune.StatusRequested, waiter.Status)
	require.Zero(t, e.JobCount(t, jobs.KindExecutionDispatch, waiter.ID), "a waiter has no dispatch job")
	// The first waiter is cancelled while it waits: it leaves the line.
	_, err = e.DB.AutoCommit().ExecutionFinish(ctx, gone.ID, db.Finish{From: attune.StatusRequested, To: attune.StatusCancelled, Error: "by hand"})
	require.NoError(t, err)

	// A worker claims the holder, then goes silent.
	_, err = e.DB.Pool.Exec(ctx, `INSERT INTO attune.worker (name, roles, hostname, pid, started_at, last_seen_at)
		VALUES ('dead', '{workers}', 'h', 1, now() - interval '1 hour', now() - interval '1 hour')`)
	require.NoError(t, err)
	_, err = e.DB.AutoCommit().ExecutionStart(ctx, holder.ID, "dead")
	require.NoError(t, err)

	n, err := e.P.Reap(ctx, time.Minute)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	x, err := e.DB.AutoCommit().Execution(ctx, holder.ID)
	require.NoError(t, err)
	require.Equal(t, attune.StatusAbandoned, x.Status)
	x, err = e.DB.AutoCommit().Execution(ctx, waiter.ID)
	require.NoError(t, err)
	require.Equal(t, attune.StatusScheduled, x.Status, "the next waiter still in line got the slot")
	x, err = e.DB.AutoCommit().Execution(ctx, gone.ID)
	require.NoError(t, err)
	require.Equal(t, attune.StatusCancelled, x.Status, "a cancelled waiter is not admitted")
	require.Equal(t, 1, e.JobCount(t, jobs.KindExecutionDispatch, waiter.ID))
	ps, err := e.DB.AutoCommit().Policies(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, ps[0].Held)
	require.Zero(t, ps[0].Waiting)
}
