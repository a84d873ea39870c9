package packs

import (
	"errors"
	"path"
	"slices"
	"strings"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/params"
	"github.com/attune-run/attune/workflows"
)

// parsedWorkflow is an orquesta action's workflow, parsed, waiting for every action of the pack
// to be read before its action refs are checked.
type parsedWorkflow struct {
	file string // as shown in problems
	wf   *workflows.Workflow
}

// readWorkflow parses the workflow an orquesta action's entry point holds, reporting its
// problems at the workflow file's lines, and checks that every input the workflow needs is a
// parameter of the action: the action's parameters are the workflow's input.
func (l *loader) readWorkflow(s scope, a attune.Action) {
	if a.EntryContent == nil {
		return // no entry point, reported
	}
	file := l.display(path.Join("actions", a.EntryPoint))
	wf, err := workflows.Parse(file, a.EntryContent)
	if err != nil {
		l.addWorkflowProblems(err.(workflows.Problems))
		return
	}
	for _, in := range wf.Input {
		if in.Default == nil && !hasParam(&a, in.Name) {
			s.errorf("parameters", "workflow input %q has no default and the action declares no parameter %q to give it; add it to parameters", in.Name, in.Name)
		}
	}
	l.flows = append(l.flows, parsedWorkflow{file: file, wf: wf})
}

// addWorkflowProblems records a workflow's problems as the pack's.
func (l *loader) addWorkflowProblems(ps workflows.Problems) {
	for _, p := range ps {
		l.probs.add(p.File, p.Line, p.Col, "%s", p.Msg)
	}
}

// checkWorkflows checks the workflows read so far, now that every action of the pack is known:
// an action ref must name an action of this pack or of a pack the loader knows (core); a ref
// into any other pack gets a warning that it was not checked, as a rule's does.
func (l *loader) checkWorkflows() {
	for _, f := range l.flows {
		l.addWorkflowProblems(f.wf.Check(l.resolveAction))
		for _, name := range f.wf.Order {
			t := f.wf.Tasks[name]
			l.checkTaskParams(f.file, t)
			packRef, _, _ := strings.Cut(t.Action, ".")
			if _, known := l.others[packRef]; t.Action != "" && packRef != l.pack.Ref && !known {
				line, col := t.ActionPos()
				l.warns.add(f.file, line, col, "not checked: pack %s is not loaded; action %s must be registered before this pack", clip(packRef), clip(t.Action))
			}
		}
	}
}

// checkTaskParams checks a task's input against the parameters of the action it runs, when that
// action is this pack's or a loaded pack's: unknown parameters, required ones not given, and
// the literal values (types, bounds, enums), each at the input it is about. A value holding an
// expression is checked only for being declared; it is checked when the task runs.
func (l *loader) checkTaskParams(file string, t *workflows.Task) {
	a, ok := l.findAction(t.Action)
	if !ok {
		return
	}
	given := make(map[string]any, len(t.Input))
	for k, v := range t.Input {
		if lit, ok := v.Literal(); ok {
			given[k] = lit
		} else {
			given[k] = "{{ expression }}" // what params.CheckLiteral leaves to run time
		}
	}
	var fe params.FieldErrors
	if err := params.CheckLiteral(a.Parameters, given); !errors.As(err, &fe) {
		return // valid, or a schema problem already reported on the action
	}
	for _, e := range fe {
		top, _, _ := strings.Cut(e.Field, ".")
		line, col := t.InputPos(top)
		l.probs.add(file, line, col, "task %s: input %s: %s (action %s)", t.Name, e.Field, e.Msg, a.Ref)
	}
}

// findAction returns the action ref names in this pack or a loaded pack.
func (l *loader) findAction(ref string) (attune.Action, bool) {
	packRef, name, _ := strings.Cut(ref, ".")
	actions := l.pack.Actions
	if packRef != l.pack.Ref {
		other, ok := l.others[packRef]
		if !ok {
			return attune.Action{}, false
		}
		actions = other.Actions
	} else if len(l.defined["action "+name]) != 1 {
		return attune.Action{}, false // a duplicate ref (reported): no one schema to check against
	}
	i := slices.IndexFunc(actions, func(a attune.Action) bool { return a.Ref == ref })
	if i < 0 {
		return attune.Action{}, false
	}
	return actions[i], true
}

// resolveAction reports whether ref names an action of this pack or of a pack the loader knows;
// a ref into a pack it does not know resolves, and is warned about by checkWorkflows.
func (l *loader) resolveAction(ref string) bool {
	packRef, _, _ := strings.Cut(ref, ".")
	actions := l.pack.Actions
	if packRef != l.pack.Ref {
		other, ok := l.others[packRef]
		if !ok {
			return true
		}
		actions = other.Actions
	}
	return slices.ContainsFunc(actions, func(a attune.Action) bool { return a.Ref == ref })
}
