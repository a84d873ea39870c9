package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/packs"
)

// The workflow phases' pack, loaded from files as `attune pack register` loads one: a sequential
// workflow of seqTasks core.noop tasks, and a with-items over its input xs.
const (
	workflowPack  = "benchwf"
	workflowSeq   = workflowPack + ".seq"
	workflowItems = workflowPack + ".items"
	seqTasks      = 20
	itemsAtOnce   = 50 // the with-items task's concurrency
)

// workflowPackFiles are the files of the workflow phases' pack.
func workflowPackFiles() map[string]string {
	var seq strings.Builder
	seq.WriteString("version: 1.0\ntasks:\n")
	for i := 1; i <= seqTasks; i++ {
		fmt.Fprintf(&seq, "  t%02d:\n    action: core.noop\n", i)
		if i < seqTasks {
			fmt.Fprintf(&seq, "    next:\n      - when: <%% succeeded() %%>\n        do: t%02d\n", i+1)
		}
	}
	items := fmt.Sprintf(`version: 1.0
input:
  - xs
tasks:
  each:
    with:
      items: <%% ctx().xs %%>
      concurrency: %d
    action: core.noop
`, itemsAtOnce)
	return map[string]string{
		"pack.yaml":                    "ref: " + workflowPack + "\nversion: 1.0.0\n",
		"actions/seq.yaml":             "ref: seq\nrunner_type: orquesta\nentry_point: workflows/seq.yaml\n",
		"actions/workflows/seq.yaml":   seq.String(),
		"actions/items.yaml":           "ref: items\nrunner_type: orquesta\nentry_point: workflows/items.yaml\nparameters:\n  xs: {type: array}\n",
		"actions/workflows/items.yaml": items,
	}
}

// registerWorkflowPack writes the workflow pack to a temporary directory, loads it with
// packs.LoadDir (as attune pack register does) and registers it.
func registerWorkflowPack(ctx context.Context, r *Replica) error {
	dir, err := os.MkdirTemp("", "attune-bench-wf-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	for name, body := range workflowPackFiles() {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			return err
		}
	}
	p, err := packs.LoadDir(dir, time.Now())
	if err != nil {
		return fmt.Errorf("load the workflow pack: %w", err)
	}
	if _, err := r.Registry.RegisterPack(ctx, p); err != nil {
		return fmt.Errorf("register the workflow pack: %w", err)
	}
	return nil
}

// workflowTransitionResult is the outcome of the workflow_transition phase.
type workflowTransitionResult struct {
	// Dispatch is, for each task after the first, from its previous task's child turning
	// terminal (the start of that terminal transaction: the child's finished_at is its now())
	// to that transaction's commit (pg_xact_commit_timestamp of the child's row), which records
	// the end, advances the workflow and inserts the next child with its dispatch job: "child
	// terminal -> next child's dispatch committed", in ms.
	Dispatch Percentiles
	// Running is from the same moment to the next child running (its started_at): Dispatch plus
	// River's fetch of the dispatch job and the claim, in ms.
	Running Percentiles
	// SameTx counts the transitions whose next child was created in the previous child's
	// terminal transaction (its created_at equals the previous finished_at: both are that
	// transaction's now()).
	SameTx    int
	Workflows int
	// Whole is each workflow's created_at -> finished_at, in ms.
	Whole Percentiles
}

// workflowRun runs action with params on r and waits for it to end; it fails unless the
// workflow completed.
func workflowRun(ctx context.Context, r *Replica, action string, params map[string]any, within time.Duration) (attune.Execution, error) {
	x, err := r.P.Run(ctx, action, params, 0)
	if err != nil {
		return x, fmt.Errorf("run %s: %w", action, err)
	}
	var status string
	err = waitForEvery(ctx, 5*time.Millisecond, within, func() (bool, error) {
		err := r.DB.Pool.QueryRow(ctx, `SELECT status FROM attune.execution WHERE id = $1 AND finished_at IS NOT NULL`, x.ID).Scan(&status)
		if err == pgx.ErrNoRows {
			return false, nil
		}
		return err == nil, err
	})
	if err != nil {
		return x, fmt.Errorf("workflow %d (%s): %w", x.ID, action, err)
	}
	if status != string(attune.StatusCompleted) {
		return x, fmt.Errorf("workflow %d (%s) ended %s", x.ID, action, status)
	}
	return x, nil
}

// workflowTransition runs n sequential workflows of seqTasks core.noop tasks, one after the
// other, on one replica (rules and workers), and measures each transition from the database.
func workflowTransition(ctx context.Context, start StartFunc, url string, n int) (workflowTransitionResult, error) {
	var res workflowTransitionResult
	r, err := start(ctx, url, pipelineRoles)
	if err != nil {
		return res, err
	}
	defer r.Stop()
	if err := registerWorkflowPack(ctx, r); err != nil {
		return res, err
	}
	if err := r.Start(ctx); err != nil {
		return res, err
	}
	var ids []int64
	for range n {
		x, err := workflowRun(ctx, r, workflowSeq, nil, time.Minute)
		if err != nil {
			return res, err
		}
		ids = append(ids, x.ID)
	}
	res.Workflows = len(ids)
	rows, err := r.DB.Pool.Query(ctx, `
		SELECT extract(epoch FROM pg_xact_commit_timestamp(prev_xmin) - prev_finished) * 1000,
		       extract(epoch FROM started_at - prev_finished) * 1000,
		       created_at = prev_finished
		FROM (SELECT started_at, created_at,
		             lag(finished_at) OVER w AS prev_finished, lag(xmin) OVER w AS prev_xmin
		      FROM attune.execution WHERE parent_id = ANY($1)
		      WINDOW w AS (PARTITION BY parent_id ORDER BY id)) x
		WHERE prev_finished IS NOT NULL`, ids)
	if err != nil {
		return res, fmt.Errorf("read transitions: %w", err)
	}
	var dispatch, running []float64
	var d, s float64
	var same bool
	_, err = pgx.ForEachRow(rows, []any{&d, &s, &same}, func() error {
		dispatch, running = append(dispatch, d), append(running, s)
		if same {
			res.SameTx++
		}
		return nil
	})
	if err != nil {
		return res, fmt.Errorf("read transitions: %w", err)
	}
	if want := n * (seqTasks - 1); len(dispatch) != want {
		return res, fmt.Errorf("%d transitions recorded, want %d", len(dispatch), want)
	}
	res.Dispatch, res.Running = Summarise(dispatch), Summarise(running)
	var whole []float64
	rows, err = r.DB.Pool.Query(ctx, `SELECT extract(epoch FROM finished_at - created_at) * 1000 FROM attune.execution WHERE id = ANY($1)`, ids)
	if err != nil {
		return res, fmt.Errorf("read workflows: %w", err)
	}
	if _, err := pgx.ForEachRow(rows, []any{&d}, func() error { whole = append(whole, d); return nil }); err != nil {
		return res, fmt.Errorf("read workflows: %w", err)
	}
	res.Whole = Summarise(whole)
	return res, nil
}

// withItemsResult is the outcome of the with_items phase.
type withItemsResult struct {
	Items       int     `json:"items"`
	Concurrency int     `json:"concurrency"`
	Seconds     float64 `json:"seconds"` // the workflow's created_at -> finished_at
	ItemsPerS   float64 `json:"items_per_s"`
}

// withItems runs one workflow whose only task is a with-items of core.noop over n items, at
// most itemsAtOnce at a time, on one replica (rules and workers).
func withItems(ctx context.Context, start StartFunc, url string, n int) (withItemsResult, error) {
	res := withItemsResult{Items: n, Concurrency: itemsAtOnce}
	r, err := start(ctx, url, pipelineRoles)
	if err != nil {
		return res, err
	}
	defer r.Stop()
	if err := registerWorkflowPack(ctx, r); err != nil {
		return res, err
	}
	if err := r.Start(ctx); err != nil {
		return res, err
	}
	xs := make([]any, n)
	for i := range xs {
		xs[i] = i
	}
	x, err := workflowRun(ctx, r, workflowItems, map[string]any{"xs": xs}, drainTimeout(n))
	if err != nil {
		return res, err
	}
	var kids int
	err = r.DB.Pool.QueryRow(ctx, `SELECT extract(epoch FROM w.finished_at - w.created_at),
		(SELECT count(*) FROM attune.execution k WHERE k.parent_id = w.id AND k.status = 'completed')
		FROM attune.execution w WHERE w.id = $1`, x.ID).Scan(&res.Seconds, &kids)
	if err != nil {
		return res, fmt.Errorf("read workflow %d: %w", x.ID, err)
	}
	if kids != n {
		return res, fmt.Errorf("workflow %d: %d of %d items completed", x.ID, kids, n)
	}
	res.Seconds = round(res.Seconds, 2)
	res.ItemsPerS = round(float64(n)/res.Seconds, 0)
	return res, nil
}
