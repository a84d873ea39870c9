package chaos_test

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

	"github.com/attune-run/attune/db"
	"github.com/attune-run/attune/engine"
	"github.com/attune-run/attune/jobs"
	"github.com/attune-run/attune/runtimes"
)

// countSh keeps, under a file lock shared by every replica on this host, how many of its runs
// for one key run at once and the most it ever saw, then sleeps.
const countSh = `eval "$(cat)"
k="$dir/$environment"
flock "$k.lock" sh -c 'n=$(( $(cat "$1.running" 2>/dev/null || echo 0) + 1 )); echo $n > "$1.running"; m=$(cat "$1.max" 2>/dev/null || echo 0); if [ $n -gt $m ]; then echo $n > "$1.max"; fi' _ "$k"
sleep "$seconds"
flock "$k.lock" sh -c 'echo $(( $(cat "$1.running") - 1 )) > "$1.running"' _ "$k"
`

// TestConcurrencyPolicyUnderLoad: three replicas, 200 executions of a 0.2 s shell action under
// threshold 3. At no instant do more than 3 run (the action counts itself), all complete, in
// order of admission, and no slot leaks. Then a replica holding a slot is killed with -9: the
// reaper abandons its execution and the slot goes to the next waiter.
func TestConcurrencyPolicyUnderLoad(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	reps := []*replica{c.start("pol-a", "rules,workers"), c.start("pol-b", "rules,workers"), c.start("pol-c", "rules,workers")}
	c.waitReady("pol-a", "pol-b", "pol-c")
	c.registerPack(map[string]string{
		"pack.yaml": "ref: pol\nversion: 1.0.0\n",
		"actions/work.yaml": "ref: work\nrunner_type: shell\nentry_point: work.sh\nparameter_format: dotenv\n" +
			"parameters: {dir: {type: string, required: true}, environment: {type: string, default: load}, seconds: {type: number, default: 0.2}}\n",
		"actions/work.sh":     countSh,
		"policies/limit.yaml": "name: work.concurrency\nresource_ref: pol.work\npolicy_type: action.concurrency\nparameters: {threshold: 3, action: delay}\n",
	})
	dir := filepath.Join(c.dataDir, "counts")
	require.NoError(t, os.MkdirAll(dir, 0o777))
	require.NoError(t, os.Chmod(dir, 0o777))

	p := insertOnlyPipeline(t, c)
	ctx := context.Background()
	const n = 200
	var ids []int64
	for range n {
		x, err := p.Run(ctx, "pol.work", map[string]any{"dir": dir}, 0)
		require.NoError(t, err)
		ids = append(ids, x.ID)
	}
	start := time.Now()
	require.Eventually(t, func() bool {
		return c.scalar(`SELECT count(*) FROM attune.execution WHERE status = 'completed'`) == n
	}, 180*time.Second, 200*time.Millisecond)
	elapsed := time.Since(start)

	maxSeen := readInt(t, filepath.Join(dir, "load.max"))
	order := scheduledOrder(t, c)
	fifoViolations := 0
	for i := 1; i < len(order); i++ {
		if order[i] < order[i-1] {
			fifoViolations++
		}
	}
	leaked := c.scalar(`SELECT count(*) FROM attune.policy_slot`)
	require.LessOrEqual(t, maxSeen, 3, "never more than the threshold running")
	require.Equal(t, ids, order, "admitted in order of creation")
	require.Zero(t, fifoViolations, "admitted in order of creation")
	require.Zero(t, leaked, "every slot given back")
	require.GreaterOrEqual(t, c.scalar(`SELECT count(DISTINCT worker) FROM attune.execution`), 2, "the replicas shared the work")

	// kill -9 of a replica holding a slot.
	var long []int64
	for range 4 {
		x, err := p.Run(ctx, "pol.work", map[string]any{"dir": dir, "environment": "crash", "seconds": 30}, 0)
		require.NoError(t, err)
		long = append(long, x.ID)
	}
	var victim string
	require.Eventually(t, func() bool {
		return c.db().QueryRow(ctx, `SELECT worker FROM attune.execution WHERE id = $1 AND status = 'running'`, long[0]).Scan(&victim) == nil
	}, 30*time.Second, 50*time.Millisecond)
	st, _ := c.status(long[3])
	require.Equal(t, "requested", st, "the fourth waits")
	killed := time.Now()
	for _, r := range reps {
		if r.name == victim {
			r.kill9()
		}
	}
	require.Eventually(t, func() bool {
		st, _ := c.status(long[3])
		return st == "running"
	}, 30*time.Second, 50*time.Millisecond, "the slot of the killed replica's execution came back")
	recovered := time.Since(killed)
	// The killed replica may have run one or two of the first three: each abandoned execution
	// gave its slot back, and the one waiter took one. So every slot still held belongs to a
	// live execution, and there are never more than the threshold.
	held := c.scalar(`SELECT count(*) FROM attune.policy_slot WHERE state = 'held'`)
	live := c.scalar(`SELECT count(*) FROM attune.execution WHERE id = ANY($1) AND status IN ('scheduled', 'running')`, long)
	require.Equal(t, live, held, "a slot is held by each live execution, and by nothing else")
	require.LessOrEqual(t, held, 3)

	record(row{scenario: "6 concurrency policy, 3 replicas, 200 x 0.2s, threshold 3", expected: n, seen: n, completed: n,
		recover: recovered,
		note: "admitted " + strconv.Itoa(len(order)) + ", max seen running " + strconv.Itoa(maxSeen) +
			", FIFO violations " + strconv.Itoa(fifoViolations) + ", slots leaked " + strconv.Itoa(leaked) +
			", drained in " + elapsed.Round(100*time.Millisecond).String() + "; kill -9 of " + victim + ": slot back after the reaper"})
}

// insertOnlyPipeline is a pipeline in the test process that only creates executions: the
// replicas run them.
func insertOnlyPipeline(t *testing.T, c *cluster) *jobs.Pipeline {
	t.Helper()
	d, err := db.Open(context.Background(), c.url, db.Options{})
	require.NoError(t, err)
	t.Cleanup(d.Close)
	r, err := engine.New(engine.Config{Pipeline: jobs.Config{DB: d, Runtimes: runtimes.New(runtimes.Config{}), Worker: "chaos-test"}})
	require.NoError(t, err)
	return r.Pipeline()
}

func scheduledOrder(t *testing.T, c *cluster) []int64 {
	t.Helper()
	rows, err := c.db().Query(context.Background(), `SELECT execution_id FROM attune.execution_history WHERE to_status = 'scheduled' ORDER BY id`)
	require.NoError(t, err)
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	require.NoError(t, err)
	return ids
}

func readInt(t *testing.T, path string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	require.NoError(t, err)
	return n
}
