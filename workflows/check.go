package workflows

import (
	"cmp"
	"fmt"
	"maps"
	"slices"

	"github.com/attune-run/attune/internal/yamlsrc"
)

// Check reports what a parsed workflow can still get wrong: a `do` naming a task that does not
// exist, tasks nothing can reach, action refs that resolve says do not exist (resolve may be
// nil: that check is skipped), a join on a task that cannot have that many inbound branches, a
// literal with-items concurrency that is not a positive whole number. Empty when the workflow
// is fine.
func (w *Workflow) Check(resolve func(actionRef string) bool) Problems {
	var probs Problems
	add := func(line, col int, format string, args ...any) {
		probs = append(probs, Problem{File: w.File, Line: line, Col: col, Msg: fmt.Sprintf(format, args...)})
	}
	inbound := w.inbound()
	for _, name := range w.Order {
		t := w.Tasks[name]
		for _, tr := range t.Next {
			for i, target := range tr.Do {
				if slices.Contains(reservedTasks, target) {
					if len(tr.Do) > 1 {
						add(tr.doPos[i][0], tr.doPos[i][1], "task %s: do: %s must be alone in its list; give it its own transition", name, target)
					}
					continue
				}
				if _, ok := w.Tasks[target]; !ok {
					known := append(slices.Clone(w.Order), reservedTasks...)
					if close := yamlsrc.Suggest(target, known); close != "" {
						add(tr.doPos[i][0], tr.doPos[i][1], "task %s: do names task %q, which does not exist; did you mean %q?", name, clip(target), close)
						continue
					}
					add(tr.doPos[i][0], tr.doPos[i][1], "task %s: do names task %q, which does not exist; tasks: %s", name, clip(target), w.taskList())
				}
			}
		}
		if t.Action != "" && resolve != nil && !resolve(t.Action) {
			add(t.actionLine, t.actionCol, "task %s: action %s does not exist: its pack defines no action of that name", name, t.Action)
		}
		switch n := len(inbound[name]); {
		case t.Join != 0 && n == 0:
			add(t.Line, t.Col, "task %s has join but no task transitions to it, so it would start at once; remove join or add the transitions", name)
		case t.Join > n:
			add(t.Line, t.Col, "task %s has join: %d but only %d transitions lead to it, so it would never run", name, t.Join, n)
		}
		w.checkItemCalls(t, add)
		if t.With != nil && t.With.Concurrency != nil {
			if v, lit := t.With.Concurrency.Literal(); lit {
				if f, ok := v.(float64); !ok || f < 1 || f != float64(int(f)) {
					add(t.With.concLine, t.With.concCol, "task %s: with concurrency must be a whole number of 1 or more, or an expression; found %s", name, yamlsrc.Describe(v))
				}
			}
		}
	}
	w.unreachable(add)
	slices.SortStableFunc(probs, func(a, b Problem) int {
		return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Col, b.Col))
	})
	return probs
}

// inbound maps each task to the tasks with a transition to it (once per transition).
func (w *Workflow) inbound() map[string][]string {
	in := map[string][]string{}
	for _, name := range w.Order {
		for _, tr := range w.Tasks[name].Next {
			for _, target := range tr.Do {
				if _, ok := w.Tasks[target]; ok {
					in[target] = append(in[target], name)
				}
			}
		}
	}
	return in
}

// Starts returns the tasks with no inbound transition, in declaration order.
func (w *Workflow) Starts() []string {
	in := w.inbound()
	var starts []string
	for _, name := range w.Order {
		if len(in[name]) == 0 {
			starts = append(starts, name)
		}
	}
	return starts
}

// unreachable reports the tasks that no path from a start task leads to, and a workflow with no
// start task at all.
func (w *Workflow) unreachable(add func(line, col int, format string, args ...any)) {
	starts := w.Starts()
	if len(starts) == 0 && len(w.Order) > 0 {
		first := w.Tasks[w.Order[0]]
		add(first.Line, first.Col, "no task can start: every task has a transition leading to it; a start task is one that nothing transitions to")
		return
	}
	seen := map[string]bool{}
	queue := slices.Clone(starts)
	for len(queue) > 0 {
		name := queue[0]
		queue = queue[1:]
		if seen[name] {
			continue
		}
		seen[name] = true
		for _, tr := range w.Tasks[name].Next {
			for _, target := range tr.Do {
				if _, ok := w.Tasks[target]; ok && !seen[target] {
					queue = append(queue, target)
				}
			}
		}
	}
	for _, name := range w.Order {
		if !seen[name] {
			t := w.Tasks[name]
			add(t.Line, t.Col, "task %s cannot be reached: only tasks that no start task leads to transition to it", name)
		}
	}
}

// taskList names the tasks for a message: the first 20.
func (w *Workflow) taskList() string {
	const most = 20
	if len(w.Order) > most {
		return fmt.Sprintf("%v and %d more", w.Order[:most], len(w.Order)-most)
	}
	return fmt.Sprint(w.Order)
}

// ActionPos is where the task's action ref is written.
func (t *Task) ActionPos() (line, col int) { return t.actionLine, t.actionCol }

// InputPos is where input name of the task is written (its key under input:, or its k= in the
// action string); the action's position when the task does not give it.
func (t *Task) InputPos(name string) (line, col int) {
	if pos, ok := t.inputPos[name]; ok {
		return pos[0], pos[1]
	}
	return t.ActionPos()
}

// checkItemCalls reports item() where it has no value: in the input of a task without with, and
// in a task's transitions and retry, which run once all its items are done.
func (w *Workflow) checkItemCalls(t *Task, add func(line, col int, format string, args ...any)) {
	const msg = "task %s: item() has a value only in the input of a task with with: items"
	if t.With == nil {
		for _, k := range slices.Sorted(maps.Keys(t.Input)) {
			if t.Input[k].calls("item") {
				line, col := t.InputPos(k)
				add(line, col, msg, t.Name)
			}
		}
	}
	if t.With != nil && t.With.Items.calls("item") {
		add(t.With.Items.Line, t.With.Items.Col, msg+"; the items expression gives them", t.Name)
	}
	if t.Retry != nil && t.Retry.When.calls("item") {
		add(t.Retry.When.Line, t.Retry.When.Col, msg+"; retry runs once all items are done", t.Name)
	}
	for _, tr := range t.Next {
		uses := tr.When.calls("item")
		for _, a := range tr.Publish {
			uses = uses || a.Value.calls("item")
		}
		if uses {
			add(tr.Line, tr.col, msg+"; transitions run once all items are done (result() lists their results)", t.Name)
		}
	}
}
