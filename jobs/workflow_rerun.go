package jobs

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/db"
)

// Re-running a workflow from some of its tasks (StackStorm's re-run from a task): a new
// execution of the workflow's action, with rerun_of pointing at the old one, that starts from
// the tasks given instead of the start tasks. Each of them starts with the context its latest
// instance had in the old workflow (what its branch had published on the way there), and the
// workflow's own context is the old one's, so its output sees what the tasks that are not run
// again published.

// rerunFromKey carries a *rerunFrom to startWorkflow through the scheduling transaction.
type rerunFromKey struct{}

// rerunFrom is where a re-run workflow starts: the old workflow's context, and the tasks with
// their branch contexts; given (the parameters given anew) overrides all of them.
type rerunFrom struct {
	ctx   map[string]any
	tasks []rerunTask
	given map[string]any
	used  bool // startWorkflow started from these tasks
}

type rerunTask struct {
	name string
	ctx  map[string]any
}

// RerunTasks re-runs workflow id from the given tasks, with its parameters (secret ones
// included) and the given ones merged over them. The workflow must have ended; each task must
// have run in it and exist in the workflow action as registered now. Bad input is an error
// wrapping attune.ErrInvalid (or ErrConflict for a workflow still running) that names the
// execution and task, and nothing is written.
func (p *Pipeline) RerunTasks(ctx context.Context, id int64, tasks []string, given map[string]any) (attune.Execution, error) {
	var x attune.Execution
	err := p.DB.InTx(ctx, func(q *db.Queries) error {
		old, err := q.Execution(ctx, id)
		if err != nil {
			return err
		}
		if old.Runtime != attune.RuntimeOrquesta {
			return fmt.Errorf("execution %d runs %s, which is not a workflow: only a workflow re-runs from tasks: %w", id, old.ActionRef, attune.ErrInvalid)
		}
		if !old.Status.Terminal() {
			return fmt.Errorf("workflow %d is %s: it can be re-run from tasks once it has ended (attune execution cancel %d): %w", id, old.Status, id, attune.ErrConflict)
		}
		from, err := rerunTasksOf(ctx, q, id, tasks)
		if err != nil {
			return err
		}
		action, actionID, err := q.Action(ctx, old.ActionRef)
		if err != nil {
			return fmt.Errorf("re-run execution %d: %w", id, err)
		}
		def, err := parseWorkflow(action.EntryPoint, action.EntryContent)
		if err != nil {
			return fmt.Errorf("re-run execution %d: workflow %s as registered now: %w", id, action.Ref, err)
		}
		for _, t := range from.tasks {
			if def.Tasks[t.name] == nil {
				return fmt.Errorf("task %s of workflow %d is not in workflow %s as registered now (its tasks: %s): %w",
					t.name, id, action.Ref, strings.Join(def.Order, ", "), attune.ErrInvalid)
			}
		}
		merged, err := p.rerunParameters(old)
		if err != nil {
			return err
		}
		maps.Copy(merged, given)
		from.given = given
		x, err = p.runTx(context.WithValue(ctx, rerunFromKey{}, from), q, db.NewExecution{
			Action: action, ActionID: actionID, TimeoutSec: old.TimeoutSec, RerunOf: &old.ID,
		}, merged)
		if err == nil && !from.used && x.Status == attune.StatusRequested {
			return fmt.Errorf("workflow %s did not start at once (a policy holds it: %s); a re-run from tasks must start when it is scheduled: %w",
				action.Ref, x.Status, attune.ErrConflict)
		}
		return err
	})
	return x, err
}

// rerunTasksOf reads, for each task named, the context of its latest instance in workflow id.
func rerunTasksOf(ctx context.Context, q *db.Queries, id int64, tasks []string) (*rerunFrom, error) {
	if len(tasks) == 0 {
		return nil, fmt.Errorf("re-run workflow %d: no task given: %w", id, attune.ErrInvalid)
	}
	st, err := q.WorkflowGet(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("re-run workflow %d: %w", id, err)
	}
	ts, err := q.WorkflowTasks(ctx, id)
	if err != nil {
		return nil, err
	}
	latest := map[string]db.WorkflowTask{}
	var ran []string
	for _, t := range ts { // in the order they were reached: the last one stands
		if _, seen := latest[t.Task]; !seen {
			ran = append(ran, t.Task)
		}
		latest[t.Task] = t
	}
	from := &rerunFrom{ctx: st.Context}
	for _, name := range tasks {
		t, ok := latest[name]
		if !ok {
			return nil, fmt.Errorf("task %s never ran in workflow %d, so it has no context to re-run from (the tasks that ran: %s): %w",
				name, id, orNone(ran), attune.ErrInvalid)
		}
		if slices.ContainsFunc(from.tasks, func(r rerunTask) bool { return r.name == name }) {
			return nil, fmt.Errorf("task %s is given twice: %w", name, attune.ErrInvalid)
		}
		from.tasks = append(from.tasks, rerunTask{name: name, ctx: t.Context})
	}
	return from, nil
}

func orNone(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// startFrom starts a re-run workflow from the tasks in ctx, if any: false when ctx holds none
// (the workflow starts from its start tasks).
func (c *conductor) startFrom(ctx context.Context) (bool, error) {
	from, _ := ctx.Value(rerunFromKey{}).(*rerunFrom)
	if from == nil || from.used {
		return false, nil
	}
	from.used = true
	wctx := maps.Clone(from.ctx)
	if wctx == nil {
		wctx = map[string]any{}
	}
	maps.Copy(wctx, from.given)
	c.st.Context = wctx
	for _, t := range from.tasks {
		branch := maps.Clone(t.ctx)
		if branch == nil {
			branch = map[string]any{}
		}
		maps.Copy(branch, from.given)
		if err := c.arrive(t.name, branch); err != nil {
			return false, err
		}
	}
	return true, nil
}
