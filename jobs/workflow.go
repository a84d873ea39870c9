package jobs

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/db"
	"github.com/attune-run/attune/workflows"
)

// The conductor. A workflow is an execution of an action of runtime orquesta; its tasks' actions
// are child executions (attune.Execution.Parent), scheduled, run, retried and reaped like any
// other. Its state lives in attune.workflow (one row, locked by every transaction that moves
// it) and attune.workflow_task (one row per task instance). It never runs on a worker:
//
//   - starting: the transaction that schedules the workflow execution renders its input and
//     vars, and schedules its start tasks' children with their dispatch jobs (startWorkflow);
//   - advancing: the transaction that records a child's terminal status (announceTerminal) locks
//     the parent's row, records the task's end, evaluates its transitions, publishes, and
//     schedules the next children (advanceParent); the last one finishes the workflow, whose own
//     terminal status goes through announceTerminal in turn, so workflows nest.

// DefaultMaxTaskRuns is workflows.max_task_runs by default: task instances one workflow may
// start before it is failed as a runaway loop.
const DefaultMaxTaskRuns = 10000

// doRetryCount is how many times `do: retry` reruns a task (with no delay), as Orquesta does.
const doRetryCount = 3

// workflowCache holds parsed workflow definitions by the hash of their content.
var workflowCache sync.Map // [sha256.Size]byte -> *workflows.Workflow

// parseWorkflow parses a workflow definition (an orquesta action's entry point), once per
// file and content.
func parseWorkflow(file string, content []byte) (*workflows.Workflow, error) {
	sum := sha256.Sum256(append([]byte(file+"\x00"), content...))
	if w, ok := workflowCache.Load(sum); ok {
		return w.(*workflows.Workflow), nil
	}
	w, err := workflows.Parse(file, content)
	if err != nil {
		return nil, err
	}
	if probs := w.Check(nil); len(probs) > 0 {
		return nil, probs
	}
	workflowCache.Store(sum, w)
	return w, nil
}

// maxTaskRuns is workflows.max_task_runs.
func (p *Pipeline) maxTaskRuns() int {
	if p.MaxTaskRuns > 0 {
		return p.MaxTaskRuns
	}
	return DefaultMaxTaskRuns
}

// conductorKey finds, in a context, the conductors at work in this transaction by workflow id:
// a child that ends while its parent's conductor is busy (scheduling it, cancelling it) is
// handed to that conductor instead of a second one that would read stale state.
type conductorKey struct{}

type conductors map[int64]*conductor

// conductor moves one workflow, in one transaction, holding its row's lock.
type conductor struct {
	p     *Pipeline
	ctx   context.Context
	q     *db.Queries
	x     attune.Execution // the workflow execution
	def   *workflows.Workflow
	st    db.Workflow
	tasks []*db.WorkflowTask
	ended []endedChild // children that ended while this conductor was busy
	busy  bool
	// resumed: with-items tasks may have items to start that no child's end will start (the
	// workflow was paused); settle tops them all up.
	resumed bool
	now     time.Time
	saved   string // st as last stored (stateKey), to skip writing it unchanged
}

// stateKey is what of st is stored, for comparison: WorkflowSave never rewrites the definition
// or its file name, so they are left out rather than encoded on every child's end.
func stateKey(st db.Workflow) string {
	st.Definition, st.File = nil, ""
	b, _ := json.Marshal(st)
	return string(b)
}

// saveState stores st when it changed.
func (c *conductor) saveState() error {
	k := stateKey(c.st)
	if k == c.saved {
		return nil
	}
	if err := c.q.WorkflowSave(c.ctx, c.st); err != nil {
		return err
	}
	c.saved = k
	return nil
}

// conduct locks workflow id and loads its state; ok is false when id is not a workflow or has
// finished. A conductor already at work on id in ctx's transaction is returned as it is.
func (p *Pipeline) conduct(ctx context.Context, q *db.Queries, id int64) (*conductor, bool, error) {
	if cs, _ := ctx.Value(conductorKey{}).(conductors); cs != nil {
		if c := cs[id]; c != nil {
			return c, true, nil
		}
	}
	st, err := q.WorkflowLock(ctx, id)
	if errors.Is(err, attune.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	if st.State == db.WorkflowFinished {
		return nil, false, nil
	}
	x, err := q.Execution(ctx, id)
	if err != nil {
		return nil, false, err
	}
	c := &conductor{p: p, q: q, x: x, st: st, now: p.now(), saved: stateKey(st)}
	cs, _ := ctx.Value(conductorKey{}).(conductors)
	next := conductors{id: c}
	maps.Copy(next, cs)
	c.ctx = context.WithValue(ctx, conductorKey{}, next)
	// The definition as it was when the workflow started; parsed already unless this replica
	// restarted since.
	if c.def, err = parseWorkflow(st.File, st.Definition); err != nil {
		c.fail("", fmt.Sprintf("workflow %s: %v", x.ActionRef, err))
	}
	rows, err := q.WorkflowTasksLive(ctx, id)
	if err != nil {
		return nil, false, err
	}
	for i := range rows {
		c.tasks = append(c.tasks, &rows[i])
	}
	return c, true, nil
}

// startWorkflow starts a workflow execution that was just scheduled, in its scheduling
// transaction: running, input and vars rendered, start tasks scheduled. A definition or input
// that cannot be used fails the execution (with errors in its result); only database errors
// are returned.
func (p *Pipeline) startWorkflow(ctx context.Context, q *db.Queries, x attune.Execution) error {
	x, err := q.ExecutionSetStatus(ctx, x.ID, x.Status, attune.StatusRunning, p.Worker, "")
	if err != nil {
		return err
	}
	ctxVals := maps.Clone(x.Parameters)
	if ctxVals == nil {
		ctxVals = map[string]any{}
	}
	action, _, err := q.Action(ctx, x.ActionRef)
	if err != nil {
		return err
	}
	def, startErr := parseWorkflow(action.EntryPoint, action.EntryContent)
	if startErr == nil {
		startErr = p.renderStart(ctx, q, def, ctxVals)
	}
	err = q.WorkflowCreate(ctx, db.Workflow{ExecutionID: x.ID, Context: ctxVals, MaxTaskRuns: p.maxTaskRuns(),
		Definition: action.EntryContent, File: action.EntryPoint})
	if err != nil {
		return err
	}
	c, ok, err := p.conduct(ctx, q, x.ID)
	if err != nil || !ok {
		return err
	}
	if startErr != nil {
		if c.def != nil { // else conduct already failed it, over the same definition
			c.fail("", fmt.Sprintf("workflow %s: %v", x.ActionRef, startErr))
		}
	} else if rerun, err := c.startFrom(ctx); err != nil {
		return err
	} else if !rerun {
		for _, name := range def.Starts() {
			if err := c.arrive(name, maps.Clone(ctxVals)); err != nil {
				return err
			}
		}
	}
	p.Log.Info("workflow started", "execution_id", x.ID, "action", x.ActionRef)
	return c.settle()
}

// renderStart fills vals (the given parameters) with the input defaults, in order (a later
// default may read an earlier input), then the vars.
func (p *Pipeline) renderStart(ctx context.Context, q *db.Queries, def *workflows.Workflow, vals map[string]any) error {
	env := &workflows.Env{Ctx: vals, KV: p.workflowKV(ctx, q)}
	for _, in := range def.Input {
		if _, given := vals[in.Name]; given || in.Default == nil {
			continue
		}
		v, err := in.Default.Render(env)
		if err != nil {
			return fmt.Errorf("input %s: %w", in.Name, err)
		}
		vals[in.Name] = v
	}
	for _, a := range def.Vars {
		v, err := a.Value.Render(env)
		if err != nil {
			return fmt.Errorf("vars %s (line %d): %w", a.Name, a.Line, err)
		}
		vals[a.Name] = v
	}
	return nil
}

// workflowKV reads the datastore for st2kv()/kv(): plain values only.
func (p *Pipeline) workflowKV(ctx context.Context, q *db.Queries) func(scope, name string) (string, bool, error) {
	r := p.kvReader(ctx, q)
	return func(scope, name string) (string, bool, error) {
		v, secret, ok, err := r.LookupKey(scope, name)
		if err != nil || !ok {
			return "", ok, err
		}
		if secret {
			return "", false, fmt.Errorf("key %s.%s is secret: workflows cannot read secret keys (they would be stored in the workflow's context)", scope, name)
		}
		return v, true, nil
	}
}

// advanceParent advances the workflow of x, a child that reached a terminal status, in x's
// terminal transaction (called by announceTerminal). retryDue says the action's retry policy
// runs x again: the task then waits for that attempt.
func (p *Pipeline) advanceParent(ctx context.Context, tx pgx.Tx, x attune.Execution, retryDue bool) error {
	q := db.WithTx(tx)
	c, ok, err := p.conduct(ctx, q, x.Parent.ParentID)
	if err != nil || !ok || c.st.State == db.WorkflowFinished {
		return err
	}
	c.ended = append(c.ended, endedChild{x: x, retryDue: retryDue})
	if c.busy {
		return nil // the settle under way takes it
	}
	return c.settle()
}

// endedChild is a child's end waiting to be recorded on its task.
type endedChild struct {
	x        attune.Execution
	retryDue bool // the action's retry policy runs it again
}

// settle brings the workflow to rest: it records the children that ended, starts what is
// ready (when the workflow runs), and finishes the workflow when nothing is left to run.
func (c *conductor) settle() error {
	c.busy = true
	defer func() { c.busy = false }()
	for {
		for len(c.ended) > 0 {
			e := c.ended[0]
			c.ended = c.ended[1:]
			if err := c.childEnded(e.x, e.retryDue); err != nil {
				return err
			}
		}
		progress := false
		if c.starting() {
			for i := 0; i < len(c.tasks); i++ { // tasks may grow as routers finish
				t := c.tasks[i]
				switch {
				case t.State == db.TaskReady:
					progress = true
					if err := c.start(t); err != nil {
						return err
					}
				case c.resumed && t.State == db.TaskRunning && t.Items != nil && t.NextItem < len(t.Items):
					n := t.NextItem
					if err := c.itemsChanged(t); err != nil {
						return err
					}
					progress = progress || t.NextItem != n
				}
			}
		}
		if !progress && len(c.ended) == 0 {
			break
		}
	}
	c.resumed = false
	if err := c.finishIfDone(); err != nil {
		return err
	}
	return c.saveState()
}

// starting reports whether new tasks may start.
func (c *conductor) starting() bool {
	return c.st.State == db.WorkflowRunning && !c.st.Failed && c.def != nil
}

// childEnded records the end of a child's run on its task instance; retryDue: the action's
// retry policy runs it again.
func (c *conductor) childEnded(x attune.Execution, retryDue bool) error {
	if c.st.PausedBy == pausedByInquiry && c.st.State == db.WorkflowPaused {
		if err := c.resumeAfterInquiry(); err != nil {
			return err
		}
	}
	if retryDue && x.Status != attune.StatusCompleted && x.Status != attune.StatusCancelled && c.st.State != db.WorkflowCanceling {
		// The action's own retry policy runs it again as a new attempt of the same task run:
		// the task waits for that attempt.
		return nil
	}
	t := c.instance(x.Parent.Task, x.Parent.Route)
	if t == nil || t.State != db.TaskRunning || t.Retry != x.Parent.Retry {
		return nil // already recorded (a redelivery), or a run that was superseded
	}
	if t.Items != nil {
		return c.itemsChanged(t)
	}
	status, msg := taskStatus(x)
	return c.taskEnded(t, status, resultView(x), msg)
}

// taskStatus is how a task sees its child's end: timeout and abandoned are failures.
func taskStatus(x attune.Execution) (string, string) {
	switch x.Status {
	case attune.StatusCompleted:
		return db.TaskSucceeded, ""
	case attune.StatusCancelled:
		return db.TaskCancelled, fmt.Sprintf("execution %d was cancelled: %s", x.ID, x.Error)
	}
	msg := x.Error
	if msg == "" {
		msg = "the action failed"
	}
	return db.TaskFailed, fmt.Sprintf("execution %d %s: %s", x.ID, x.Status, msg)
}

// instance returns the task instance (name, route), nil when unknown.
func (c *conductor) instance(name string, route int) *db.WorkflowTask {
	for _, t := range c.tasks {
		if t.Task == name && t.Route == route {
			return t
		}
	}
	return nil
}

// latest returns the last instance of a task, nil when it never was reached.
func (c *conductor) latest(name string) *db.WorkflowTask {
	for i := len(c.tasks) - 1; i >= 0; i-- {
		if c.tasks[i].Task == name {
			return c.tasks[i]
		}
	}
	return nil
}

// fail records an error that fails the workflow: nothing new starts, running tasks drain.
func (c *conductor) fail(task, msg string) {
	c.st.Failed = true
	c.st.Errors = append(c.st.Errors, db.WorkflowError{Message: msg, TaskID: task})
}

// env is what a task's expressions see.
func (c *conductor) env(t *db.WorkflowTask) *workflows.Env {
	return &workflows.Env{
		Ctx:    t.Context,
		Result: t.Result,
		KV:     c.p.workflowKV(c.ctx, c.q),
		Task: func(name string) (workflows.TaskState, bool) {
			l := c.latest(name)
			if l == nil {
				return workflows.TaskState{}, false
			}
			s := workflows.TaskState{Status: l.State, Result: l.Result, StartTimestamp: l.StartedAt, EndTimestamp: l.FinishedAt}
			if !l.Done() {
				s.Status = "running"
			}
			return s, true
		},
	}
}

// arrive takes a branch (its context) to task name: a new instance, or an arrival at the
// waiting instance of a join.
func (c *conductor) arrive(name string, branch map[string]any) error {
	def := c.def.Tasks[name]
	if def == nil {
		c.fail(name, fmt.Sprintf("a transition names task %s, which does not exist", name))
		return nil
	}
	if def.Join != 0 {
		for _, t := range c.tasks {
			if t.Task == name && t.State == db.TaskWaiting {
				t.Arrivals++
				maps.Copy(t.Context, branch) // last writer wins
				if t.Arrivals >= c.joinNeeds(def) {
					t.State = db.TaskReady
				}
				return c.q.WorkflowTaskSave(c.ctx, *t)
			}
		}
	}
	route := 0
	if l := c.latest(name); l != nil {
		route = l.Route + 1
	}
	t := db.WorkflowTask{WorkflowID: c.x.ID, Task: name, Route: route, State: db.TaskReady, Context: branch, Arrivals: 1}
	if def.Join != 0 && 1 < c.joinNeeds(def) {
		t.State = db.TaskWaiting
	}
	nt, err := c.q.WorkflowTaskCreate(c.ctx, t)
	if err != nil {
		return err
	}
	c.tasks = append(c.tasks, &nt)
	return nil
}

// joinNeeds is how many arrivals a join task waits for: N, or for join all the number of
// tasks with a transition to it.
func (c *conductor) joinNeeds(def *workflows.Task) int {
	if def.Join > 0 {
		return def.Join
	}
	n := 0
	for _, name := range c.def.Order {
		for _, tr := range c.def.Tasks[name].Next {
			if slices.Contains(tr.Do, def.Name) {
				n++
				break
			}
		}
	}
	return max(n, 1)
}

// start starts a ready task instance: its with-items list, its first items, or its one child.
// A router (no action) ends succeeded at once.
func (c *conductor) start(t *db.WorkflowTask) error {
	c.st.TaskRuns++
	if c.st.TaskRuns > c.st.MaxTaskRuns {
		t.State, t.Error = db.TaskFailed, "not started: workflows.max_task_runs reached"
		c.fail(t.Task, fmt.Sprintf("the workflow started %d task runs, the limit set by workflows.max_task_runs: a loop that never ends? (task %s was next); raise workflows.max_task_runs if the workflow really needs more",
			c.st.MaxTaskRuns, t.Task))
		return c.q.WorkflowTaskSave(c.ctx, *t)
	}
	def := c.def.Tasks[t.Task]
	t.State = db.TaskRunning
	now := c.now
	if t.StartedAt == nil {
		t.StartedAt = &now
	}
	t.Result, t.Error, t.FinishedAt = nil, "", nil
	if def.Action == "" {
		return c.taskEnded(t, db.TaskSucceeded, nil, "")
	}
	if def.With == nil {
		if err := c.q.WorkflowTaskSave(c.ctx, *t); err != nil {
			return err
		}
		return c.startChild(t, def, -1, nil)
	}
	env := c.env(t)
	v, err := def.With.Items.Eval(env)
	if err != nil {
		return c.exprFailed(t, def.With.Items.Src, def.With.Items.Line, err)
	}
	items, ok := asList(v)
	if !ok {
		return c.exprFailed(t, def.With.Items.Src, def.With.Items.Line, fmt.Errorf("with-items needs a list, not %T", v))
	}
	t.Items, t.NextItem, t.Concurrency = items, 0, 0
	if def.With.Concurrency != nil {
		cv, err := def.With.Concurrency.Render(env)
		if err != nil {
			return c.exprFailed(t, "concurrency", def.Line, err)
		}
		n, ok := asInt(cv)
		if !ok || n < 1 {
			return c.exprFailed(t, "concurrency", def.Line, fmt.Errorf("concurrency must be a positive integer, not %v", cv))
		}
		t.Concurrency = n
	}
	if err := c.q.WorkflowTaskSave(c.ctx, *t); err != nil { // itemsChanged stores only its progress
		return err
	}
	return c.itemsChanged(t)
}

// itemsChanged tops up a with-items task (in list order, up to its concurrency, while the
// workflow runs and no item failed) and ends it once no item runs and none is left to start, or
// an item failed. t must be stored as it is: only its progress (NextItem) is saved here, so
// each item's end does not rewrite the item list and the context.
func (c *conductor) itemsChanged(t *db.WorkflowTask) error {
	def := c.def.Tasks[t.Task]
	started := t.NextItem
	open, bad, err := c.q.WorkflowRunCounts(c.ctx, c.x.ID, t.Task, t.Route, t.Retry)
	if err != nil {
		return err
	}
	limit := t.Concurrency
	if limit <= 0 {
		limit = len(t.Items)
	}
	for bad == 0 && c.starting() && t.NextItem < len(t.Items) && open < limit {
		i := t.NextItem
		t.NextItem++
		if err := c.startChild(t, def, i, t.Items[i]); err != nil {
			return err
		}
		if t.State != db.TaskRunning { // the item could not even be scheduled: the task failed
			return nil
		}
		open++
	}
	if t.NextItem != started {
		if err := c.q.WorkflowTaskSetNextItem(c.ctx, *t); err != nil {
			return err
		}
	}
	if open > 0 || (bad == 0 && t.NextItem < len(t.Items) && c.st.State != db.WorkflowCanceling && !c.st.Failed) {
		return nil // items still run, or wait for the workflow to resume
	}
	kids, err := c.q.WorkflowRunChildren(c.ctx, c.x.ID, t.Task, t.Route, t.Retry)
	if err != nil {
		return err
	}
	results := make([]any, 0, len(kids))
	status, msgs := db.TaskSucceeded, []string(nil)
	for _, k := range kids {
		results = append(results, resultView(k))
		if s, m := taskStatus(k); s != db.TaskSucceeded {
			if status != db.TaskFailed {
				status = s
			}
			msgs = append(msgs, fmt.Sprintf("item %d: %s", k.Parent.Item, m))
		}
	}
	if status == db.TaskSucceeded && t.NextItem < len(t.Items) {
		status = db.TaskCancelled // stopped before every item started
	}
	return c.taskEnded(t, status, results, strings.Join(msgs, "; "))
}

// startChild schedules the child execution of one run of a task (item -1: no with-items), with
// its input rendered. A child that cannot be scheduled (an action that does not exist,
// parameters its schema refuses) fails the task.
func (c *conductor) startChild(t *db.WorkflowTask, def *workflows.Task, item int, itemVal any) error {
	env := c.env(t)
	if item >= 0 {
		env.Item = itemVal
		if vars := def.With.Vars; len(vars) > 0 {
			m := map[string]any{}
			if len(vars) == 1 {
				m[vars[0]] = itemVal
			} else if l, ok := asList(itemVal); ok {
				for i, name := range vars {
					if i < len(l) {
						m[name] = l[i]
					}
				}
			}
			env.Item = m
		}
	}
	params := map[string]any{}
	for _, k := range sortedKeys(def.Input) {
		v, err := def.Input[k].Render(env)
		if err != nil {
			return c.exprFailed(t, "input "+k, def.Line, err)
		}
		params[k] = v
	}
	fail := func(msg string) error {
		t.Items = nil // a failed item fails the task at once, the rest not started
		return c.taskEnded(t, db.TaskFailed, nil, msg)
	}
	action, actionID, err := c.q.Action(c.ctx, def.Action)
	if errors.Is(err, attune.ErrNotFound) {
		return fail(fmt.Sprintf("task %s: action %s does not exist", t.Task, def.Action))
	}
	if err != nil {
		return err
	}
	// StackStorm actions' templated defaults are rendered here as for a rule or attune run. A
	// template that fails fails the task; a database error aborts the transaction, which then
	// fails at its next statement and is retried whole.
	schema, err := c.p.renderDefaults(c.ctx, c.q, action, params)
	if err != nil {
		return fail(fmt.Sprintf("task %s: parameters of %s: %v", t.Task, def.Action, err))
	}
	action.Parameters = schema
	prep, err := c.p.prepare(action, params)
	if err != nil {
		if errors.Is(err, attune.ErrInvalid) {
			return fail(fmt.Sprintf("task %s: parameters of %s: %v", t.Task, def.Action, err))
		}
		return err
	}
	delay := def.Delay
	if t.Retry > 0 {
		delay = t.RetryDelay
	}
	_, err = c.p.scheduleAt(c.ctx, c.q, db.NewExecution{
		Action: action, ActionID: actionID, Parameters: prep.stored, Secrets: prep.sealed,
		Parent: &attune.TaskRef{ParentID: c.x.ID, Task: t.Task, Route: t.Route, Item: item, Retry: t.Retry},
	}, after(c.now, time.Duration(delay)*time.Second))
	if errors.Is(err, attune.ErrConflict) {
		return nil // scheduled by an earlier delivery
	}
	if errors.Is(err, attune.ErrInvalid) {
		return fail(fmt.Sprintf("task %s: %v", t.Task, err))
	}
	return err
}

// exprFailed fails a task, and with it the workflow, over an expression that could not be
// evaluated; the error names the task and the expression.
func (c *conductor) exprFailed(t *db.WorkflowTask, src string, line int, err error) error {
	msg := fmt.Sprintf("task %s: expression %s (line %d): %v", t.Task, src, line, err)
	c.fail(t.Task, msg)
	t.State, t.Error = db.TaskFailed, msg
	now := c.now
	t.FinishedAt = &now
	return c.q.WorkflowTaskSave(c.ctx, *t)
}

// taskEnded records the end of a task instance's run: a retry when its retry says so, else its
// transitions, every one whose when holds, in declared order.
func (c *conductor) taskEnded(t *db.WorkflowTask, status string, result any, msg string) error {
	def := c.def.Tasks[t.Task]
	t.Result = result
	env := c.env(t)
	env.TaskStatus = status
	if status != db.TaskCancelled && c.st.State != db.WorkflowCanceling && def.Retry != nil && t.Retry < def.Retry.Count {
		again := status == db.TaskFailed
		if def.Retry.When != nil {
			var err error
			if again, err = def.Retry.When.True(env); err != nil {
				return c.exprFailed(t, def.Retry.When.Src, def.Retry.When.Line, err)
			}
		}
		if again {
			return c.retry(t, def.Retry.Delay)
		}
	}
	t.State, t.Error = status, msg
	now := c.now
	t.FinishedAt = &now
	if c.st.State == db.WorkflowCanceling {
		return c.q.WorkflowTaskSave(c.ctx, *t)
	}
	handled, retry := false, false
	for _, tr := range def.Next {
		if tr.When != nil {
			ok, err := tr.When.True(env)
			if err != nil {
				return c.exprFailed(t, tr.When.Src, tr.When.Line, err)
			}
			if !ok {
				continue
			}
		}
		branch := maps.Clone(t.Context) // never nil: a task's context is stored as an object
		penv := *env
		penv.Ctx = branch
		for _, a := range tr.Publish {
			v, err := a.Value.Render(&penv)
			if err != nil {
				return c.exprFailed(t, "publish "+a.Name, a.Line, err)
			}
			branch[a.Name] = v
			c.st.Context[a.Name] = v
		}
		for _, d := range tr.Do {
			switch d {
			case workflows.DoContinue:
			case workflows.DoNoop:
				handled = true
			case workflows.DoFail:
				handled = true
				c.fail(t.Task, fmt.Sprintf("task %s: failed on purpose (do: fail, line %d)", t.Task, tr.Line))
			case workflows.DoRetry:
				retry = true
			default:
				handled = true
				if err := c.arrive(d, maps.Clone(branch)); err != nil {
					return err
				}
			}
		}
	}
	if retry && t.Retry < doRetryCount {
		return c.retry(t, 0)
	}
	if status != db.TaskSucceeded && !handled {
		if msg == "" {
			msg = "the task " + status
		}
		c.fail(t.Task, fmt.Sprintf("task %s: %s", t.Task, msg))
	}
	return c.q.WorkflowTaskSave(c.ctx, *t)
}

// retry makes a task instance ready to run again, delay seconds later.
func (c *conductor) retry(t *db.WorkflowTask, delay int) error {
	t.Retry++
	t.RetryDelay = delay
	t.State = db.TaskReady
	t.Items, t.NextItem, t.Result, t.Error, t.FinishedAt = nil, 0, nil, "", nil
	return c.q.WorkflowTaskSave(c.ctx, *t)
}

// finishIfDone ends the workflow when no task runs and none may start: completed, failed
// (an unhandled failure), or cancelled; its output rendered either way.
func (c *conductor) finishIfDone() error {
	if c.st.State == db.WorkflowFinished {
		return nil
	}
	for _, t := range c.tasks {
		if t.State == db.TaskRunning || (t.State == db.TaskReady && !c.st.Failed && c.st.State != db.WorkflowCanceling) {
			return nil
		}
	}
	to := attune.StatusCompleted
	switch {
	case c.st.State == db.WorkflowCanceling:
		to = attune.StatusCancelled
	case c.st.Failed:
		to = attune.StatusFailed
	}
	output := map[string]any{}
	if c.def != nil {
		env := &workflows.Env{Ctx: c.st.Context, KV: c.p.workflowKV(c.ctx, c.q)}
		for _, a := range c.def.Output {
			v, err := a.Value.Render(env)
			if err != nil {
				c.fail("", fmt.Sprintf("output %s (line %d): %v", a.Name, a.Line, err))
				if to == attune.StatusCompleted {
					to = attune.StatusFailed
				}
				continue
			}
			output[a.Name] = v
		}
	}
	res := map[string]any{"output": output}
	reason := ""
	if len(c.st.Errors) > 0 && to != attune.StatusCompleted {
		res["errors"] = c.st.Errors
		reason = c.st.Errors[0].Message
	}
	if to == attune.StatusCancelled {
		reason = c.x.Error
	}
	b, err := json.Marshal(res)
	if err != nil {
		return fmt.Errorf("workflow %d result: %w", c.x.ID, err)
	}
	cur, err := c.q.Execution(c.ctx, c.x.ID)
	if err != nil {
		return err
	}
	fx, err := c.q.ExecutionFinish(c.ctx, c.x.ID, db.Finish{From: cur.Status, To: to, Result: b, Error: reason, Worker: c.p.Worker})
	if err != nil {
		return err
	}
	c.st.State = db.WorkflowFinished
	if err := c.saveState(); err != nil {
		return err
	}
	c.p.Log.Info("workflow finished", "execution_id", fx.ID, "action", fx.ActionRef, "status", fx.Status)
	return c.p.announceTerminal(c.ctx, c.q.Tx(), fx)
}

// resultView is result() of a child: the shape StackStorm's runners give workflows. A shell or
// python result gives stdout and stderr (each without its final newline, as StackStorm's local
// runner strips them), return_code (and exit_code) and succeeded; a
// python action's return value is result; other data (noop's parameters, http's response) is
// merged in, and kept whole under data. A workflow's result ({output, errors}) is as stored.
func resultView(x attune.Execution) any {
	if len(x.Result) == 0 {
		return nil
	}
	var doc map[string]any
	if err := json.Unmarshal(x.Result, &doc); err != nil {
		var v any
		_ = json.Unmarshal(x.Result, &v)
		return v
	}
	code, isRun := doc["exit_code"]
	if !isRun {
		return doc
	}
	stdout, _ := doc["stdout"].(string)
	stderr, _ := doc["stderr"].(string)
	v := map[string]any{}
	if data, ok := doc["data"]; ok && data != nil {
		if m, ok := data.(map[string]any); ok {
			maps.Copy(v, m)
		}
		v["data"] = data
	}
	v["stdout"] = strings.TrimSuffix(stdout, "\n")
	v["stderr"] = strings.TrimSuffix(stderr, "\n")
	v["return_code"] = code
	v["exit_code"] = code
	v["succeeded"] = doc["succeeded"]
	if e, ok := doc["error"]; ok {
		v["error"] = e
	}
	return v
}

// asList converts any slice or array to []any.
func asList(v any) ([]any, bool) {
	if l, ok := v.([]any); ok {
		return l, true
	}
	rv := reflect.ValueOf(v)
	if !rv.IsValid() || (rv.Kind() != reflect.Slice && rv.Kind() != reflect.Array) {
		return nil, false
	}
	out := make([]any, rv.Len())
	for i := range out {
		out[i] = rv.Index(i).Interface()
	}
	return out, true
}

// asInt converts a whole number of any numeric type (or its decimal string) to int.
func asInt(v any) (int, bool) {
	switch n := v.(type) {
	case int:
		return n, true
	case int64:
		return int(n), true
	case float64:
		return int(n), n == float64(int(n))
	case string:
		var i int
		_, err := fmt.Sscan(n, &i)
		return i, err == nil
	}
	rv := reflect.ValueOf(v)
	if rv.CanInt() {
		return int(rv.Int()), true
	}
	if rv.CanUint() {
		return int(rv.Uint()), true
	}
	return 0, false
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}
