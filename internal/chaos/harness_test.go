package chaos_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/attune-run/attune/db/embedded"
)

// binary is the attune binary under test, built once.
var binary string

// report collects one row per scenario for the summary table.
var report struct {
	sync.Mutex
	rows []row
}

type row struct {
	scenario                                    string
	expected, seen, completed, duplicates, lost int
	recover                                     time.Duration
	note                                        string
}

func record(r row) {
	report.Lock()
	defer report.Unlock()
	report.rows = append(report.rows, r)
}

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		os.Exit(0)
	}
	dir, err := os.MkdirTemp("", "attune-chaos-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "attune")
	build := exec.Command("go", "build", "-o", binary, "../../cmd/attune")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build attune:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	writeReport()
	os.Exit(code)
}

// writeReport prints the scenario table, and writes it to $ATTUNE_CHAOS_REPORT when set.
func writeReport() {
	report.Lock()
	defer report.Unlock()
	sort.Slice(report.rows, func(i, j int) bool { return report.rows[i].scenario < report.rows[j].scenario })
	var b bytes.Buffer
	fmt.Fprintf(&b, "| scenario | events expected | events seen | executions completed | duplicates | lost | time to recover | note |\n")
	fmt.Fprintf(&b, "|---|---|---|---|---|---|---|---|\n")
	for _, r := range report.rows {
		fmt.Fprintf(&b, "| %s | %d | %d | %d | %d | %d | %s | %s |\n", r.scenario, r.expected, r.seen, r.completed,
			r.duplicates, r.lost, r.recover.Round(10*time.Millisecond), r.note)
	}
	fmt.Print(b.String())
	if f := os.Getenv("ATTUNE_CHAOS_REPORT"); f != "" {
		_ = os.WriteFile(f, b.Bytes(), 0o644)
	}
}

// cluster is a PostgreSQL server of the scenario's own, so it can be restarted.
type cluster struct {
	t       *testing.T
	dataDir string
	url     string
	handle  *embedded.Handle
	pool    *pgxpool.Pool
	// defaultDetection leaves worker.heartbeat and worker.silent_after at attune's defaults
	// instead of the suite's fast ones.
	defaultDetection bool
}

func newCluster(t *testing.T) *cluster {
	t.Helper()
	dir, err := os.MkdirTemp("", "attune-chaos-")
	require.NoError(t, err)
	require.NoError(t, os.Chmod(dir, 0o755))
	ctx := context.Background()
	h, err := embedded.Acquire(ctx, embedded.Options{DataDir: filepath.Join(dir, "data")})
	require.NoError(t, err)
	c := &cluster{t: t, dataDir: filepath.Join(dir, "data"), url: h.URL(), handle: h}
	t.Cleanup(func() {
		if c.pool != nil {
			c.pool.Close()
		}
		_ = h.Release(context.Background())
		os.RemoveAll(dir)
	})
	return c
}

// db returns a pool on the cluster (after the replicas migrated it).
func (c *cluster) db() *pgxpool.Pool {
	c.t.Helper()
	if c.pool == nil {
		p, err := pgxpool.New(context.Background(), c.url)
		require.NoError(c.t, err)
		c.pool = p
	}
	return c.pool
}

// pgCtl runs pg_ctl on the cluster, as the postgres user when we are root.
func (c *cluster) pgCtl(args ...string) {
	c.t.Helper()
	bin, err := exec.Command("pg_config", "--bindir").Output()
	require.NoError(c.t, err)
	cmd := exec.Command(filepath.Join(strings.TrimSpace(string(bin)), "pg_ctl"), append([]string{"-D", filepath.Join(c.dataDir, "pg")}, args...)...)
	cmd.Dir = c.dataDir
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		require.NoError(c.t, err)
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, Setpgid: true}
	}
	out, err := cmd.CombinedOutput()
	require.NoError(c.t, err, "pg_ctl %v: %s", args, out)
}

// startOpts are the server options of a restart by hand: the same socket and port.
func (c *cluster) startOpts() string {
	u, err := url.Parse(c.url)
	require.NoError(c.t, err)
	q := u.Query()
	return fmt.Sprintf("-k %s -p %s -h 127.0.0.1", q.Get("host"), q.Get("port"))
}

// replica is one `attune start` process.
type replica struct {
	t    *testing.T
	name string
	cmd  *exec.Cmd
	logs *syncBuffer
	done chan struct{}
	err  error
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// env is the environment of a replica or command on the cluster, with fast failure detection.
func (c *cluster) env(name string, extra ...string) []string {
	env := append(os.Environ(),
		"ATTUNE_DATABASE_URL="+c.url,
		"ATTUNE_WORKER_NAME="+name,
		"ATTUNE_RUNTIMES_KILL_GRACE=1s",
		"ATTUNE_PACKS_DEMO=false",
		"ATTUNE_LOG_FORMAT=json",
	)
	if !c.defaultDetection {
		env = append(env, "ATTUNE_WORKER_HEARTBEAT=300ms", "ATTUNE_WORKER_SILENT_AFTER=2s")
	}
	return append(env, extra...)
}

func (c *cluster) start(name, roles string, extra ...string) *replica {
	c.t.Helper()
	r := &replica{t: c.t, name: name, logs: &syncBuffer{}, done: make(chan struct{})}
	r.cmd = exec.Command(binary, "start", "--roles", roles)
	r.cmd.Env = c.env(name, extra...)
	r.cmd.Dir = c.dataDir
	r.cmd.Stdout, r.cmd.Stderr = r.logs, r.logs
	require.NoError(c.t, r.cmd.Start())
	go func() { r.err = r.cmd.Wait(); close(r.done) }()
	c.t.Cleanup(func() {
		select {
		case <-r.done:
		default:
			_ = r.cmd.Process.Kill()
			<-r.done
		}
		if c.t.Failed() {
			c.t.Logf("logs of %s:\n%s", r.name, r.logs.String())
		}
	})
	return r
}

// kill9 kills the replica with SIGKILL, as a crash would.
func (r *replica) kill9() {
	require.NoError(r.t, r.cmd.Process.Kill())
	<-r.done
}

// signal sends sig and returns a channel closed when the process exits.
func (r *replica) signal(sig syscall.Signal) {
	require.NoError(r.t, r.cmd.Process.Signal(sig))
}

// wait waits for the process to exit and returns its exit code.
func (r *replica) wait(within time.Duration) int {
	r.t.Helper()
	select {
	case <-r.done:
	case <-time.After(within):
		r.t.Fatalf("%s did not exit within %s; logs:\n%s", r.name, within, r.logs.String())
	}
	if ee, ok := r.err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	return 0
}

// attune runs one CLI command against the cluster.
func (c *cluster) attune(args ...string) (string, int) {
	c.t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = c.env("cli")
	cmd.Dir = c.dataDir
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); ok {
		return string(out), ee.ExitCode()
	}
	require.NoError(c.t, err)
	return string(out), 0
}

// waitReady waits until every replica named has sent a heartbeat.
func (c *cluster) waitReady(names ...string) {
	c.t.Helper()
	require.Eventually(c.t, func() bool {
		var n int
		err := c.db().QueryRow(context.Background(), `SELECT count(*) FROM attune.worker WHERE name = ANY($1)`, names).Scan(&n)
		return err == nil && n == len(names)
	}, 60*time.Second, 100*time.Millisecond, "replicas %v never came up", names)
}

// registerPack writes a pack and registers it.
func (c *cluster) registerPack(files map[string]string) {
	c.t.Helper()
	dir := filepath.Join(c.t.TempDir(), "pack")
	for name, content := range files {
		p := filepath.Join(dir, name)
		require.NoError(c.t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(c.t, os.WriteFile(p, []byte(content), 0o644))
	}
	out, code := c.attune("pack", "register", dir)
	require.Equal(c.t, 0, code, out)
}

func (c *cluster) scalar(q string, args ...any) int {
	c.t.Helper()
	var n int
	require.NoError(c.t, c.db().QueryRow(context.Background(), q, args...).Scan(&n))
	return n
}

func (c *cluster) status(id int64) (string, string) {
	c.t.Helper()
	var st, errText string
	require.NoError(c.t, c.db().QueryRow(context.Background(), `SELECT status, error FROM attune.execution WHERE id = $1`, id).Scan(&st, &errText))
	return st, errText
}

func alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	if err := syscall.Kill(pid, 0); err != nil {
		return false
	}
	// A zombie is dead for our purposes.
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	fields := strings.Fields(string(b))
	return len(fields) > 2 && fields[2] != "Z"
}

func readPID(t *testing.T, path string) int {
	t.Helper()
	var pid int
	require.Eventually(t, func() bool {
		b, err := os.ReadFile(path)
		if err != nil {
			return false
		}
		pid, err = strconv.Atoi(strings.TrimSpace(string(b)))
		return err == nil
	}, 30*time.Second, 50*time.Millisecond, "no pid in %s", path)
	return pid
}

// timerTicks returns, per rule ref, the scheduled times of its timer's events, in order.
func (c *cluster) timerTicks(pack string) map[string][]time.Time {
	c.t.Helper()
	rows, err := c.db().Query(context.Background(), `
		SELECT rule_ref, scheduled_at FROM attune.event
		WHERE rule_ref LIKE $1 AND scheduled_at IS NOT NULL ORDER BY rule_ref, scheduled_at`, pack+".%")
	require.NoError(c.t, err)
	defer rows.Close()
	out := map[string][]time.Time{}
	for rows.Next() {
		var ref string
		var at time.Time
		require.NoError(c.t, rows.Scan(&ref, &at))
		out[ref] = append(out[ref], at)
	}
	require.NoError(c.t, rows.Err())
	return out
}

// executionsPerEvent counts, for the events of a pack's rules, their executions by outcome.
func (c *cluster) executionsPerEvent(pack string) (events, terminal, lost, duplicates int) {
	c.t.Helper()
	rows, err := c.db().Query(context.Background(), `
		SELECT ev.id,
		       count(x.id) FILTER (WHERE x.attempt = 1),
		       count(x.id) FILTER (WHERE x.attempt = 1 AND x.status IN ('completed','failed','timeout','cancelled','abandoned'))
		FROM attune.event ev
		LEFT JOIN attune.enforcement n ON n.event_id = ev.id
		LEFT JOIN attune.execution x ON x.enforcement_id = n.id
		WHERE ev.rule_ref LIKE $1
		GROUP BY ev.id`, pack+".%")
	require.NoError(c.t, err)
	defer rows.Close()
	for rows.Next() {
		var id int64
		var n, done int
		require.NoError(c.t, rows.Scan(&id, &n, &done))
		events++
		terminal += done
		if n == 0 || done == 0 {
			lost++
		}
		if n > 1 {
			duplicates += n - 1
		}
	}
	require.NoError(c.t, rows.Err())
	return
}
