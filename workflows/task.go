package workflows

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/attune-run/attune/internal/yamlsrc"
)

// task reads one task.
func (p *parser) task(n node, name string, line, col int) *Task {
	t := &Task{Name: name, Line: line, Col: col, Input: map[string]*Value{}, inputPos: map[string][2]int{}}
	if n.v == nil {
		return t // a router with nothing to do
	}
	m, ok := p.mapping(n, fmt.Sprintf("task %s", name), taskKeys)
	if !ok {
		return nil
	}
	if _, ok := m["action"]; ok {
		p.action(p.child(n, "action"), t)
	}
	if _, ok := m["input"]; ok {
		in := p.child(n, "input")
		if _, ok := in.v.(map[string]any); !ok {
			p.errorf(in, "input of task %s must be a mapping of parameter names to values; found %s", name, yamlsrc.Describe(in.v))
		} else {
			for _, k := range p.keys(in) {
				v, prob := p.newValue(p.child(in, k))
				if prob != nil {
					p.add(prob)
					continue
				}
				t.Input[k] = v
				kl, kc := p.keyPos(in, k)
				t.inputPos[k] = [2]int{kl, kc}
			}
		}
	}
	if _, ok := m["delay"]; ok {
		t.Delay = p.seconds(p.child(n, "delay"), "delay")
	}
	if _, ok := m["join"]; ok {
		t.Join = p.join(p.child(n, "join"))
	}
	if _, ok := m["with"]; ok {
		t.With = p.with(p.child(n, "with"))
	}
	if _, ok := m["retry"]; ok {
		t.Retry = p.retry(p.child(n, "retry"))
	}
	if _, ok := m["next"]; ok {
		t.Next = p.next(p.child(n, "next"))
	}
	return t
}

// action reads "pack.action k=v k2=\"v 2\"".
func (p *parser) action(n node, t *Task) {
	s, ok := n.v.(string)
	if !ok {
		p.errorf(n, "action must be an action ref such as core.echo, optionally followed by k=v parameters; found %s", yamlsrc.Describe(n.v))
		return
	}
	trimmed := strings.TrimLeft(s, " ")
	lead := len(s) - len(trimmed)
	ref, _, _ := strings.Cut(trimmed, " ")
	if !refRE.MatchString(ref) {
		p.errorf(n, "action %q must be an action ref such as core.echo (pack.name)", clip(ref))
		return
	}
	t.Action = ref
	t.actionLine, t.actionCol = n.at(lead)
	start := lead + len(ref) + 1
	pairs, prob := inlineParams(s, start)
	if prob != nil {
		prob.Line, prob.Col = n.at(prob.Col)
		p.add(prob)
		return
	}
	for _, kv := range pairs {
		v, prob := p.inlineValue(n, kv)
		if prob != nil {
			p.add(prob)
			continue
		}
		t.Input[kv.key] = v
		kl, kc := n.at(kv.keyOff)
		t.inputPos[kv.key] = [2]int{kl, kc}
	}
}

// seconds reads a whole number of seconds, 0 or more.
func (p *parser) seconds(n node, what string) int {
	return p.whole(n, what, "seconds", maxSeconds)
}

// Bounds of the numbers a workflow gives.
const (
	maxSeconds    = 30 * 24 * 3600 // a delay of a month at most
	maxRetryCount = 100            // as an action's retry policy
)

// whole reads a whole number of units between 0 and most.
func (p *parser) whole(n node, what, units string, most int) int {
	f, ok := n.v.(float64)
	if !ok || f < 0 || f > float64(most) || f != float64(int(f)) {
		p.errorf(n, "%s must be a whole number of %s from 0 to %d; found %s", what, units, most, yamlsrc.Describe(n.v))
		return 0
	}
	return int(f)
}

// join reads join: all | N.
func (p *parser) join(n node) int {
	switch v := n.v.(type) {
	case string:
		if v == "all" {
			return JoinAll
		}
	case float64:
		if v >= 1 && v == float64(int(v)) {
			return int(v)
		}
	}
	p.errorf(n, "join must be all or a number of inbound branches (1 or more); found %s", yamlsrc.Describe(n.v))
	return 0
}

// withVarsRE is the "x, y in <expr>" form of with.
var withVarsRE = regexp.MustCompile(`^\s*(\w+(?:\s*,\s*\w+)*)\s+in\s+`)

// with reads with: "<expr>" | "x, y in <expr>" | {items, concurrency}.
func (p *parser) with(n node) *With {
	w := &With{}
	items := n
	if _, ok := n.v.(map[string]any); ok {
		m, _ := p.mapping(n, "with", withKeys)
		if _, ok := m["items"]; !ok {
			p.errorf(n, "with needs items:, the expression giving the list to run the task for")
			return nil
		}
		items = p.child(n, "items")
		if _, ok := m["concurrency"]; ok {
			c := p.child(n, "concurrency")
			v, prob := p.newValue(c)
			if prob != nil {
				p.add(prob)
			}
			w.Concurrency = v
			w.concLine, w.concCol = c.pos()
		}
	}
	s, ok := items.v.(string)
	if !ok {
		p.errorf(items, "with items must be an expression such as <%% ctx().hosts %%>, or \"x, y in <%% zip(…) %%>\"; found %s", yamlsrc.Describe(items.v))
		return nil
	}
	off := 0
	if m := withVarsRE.FindStringSubmatch(s); m != nil {
		for _, v := range strings.Split(m[1], ",") {
			w.Vars = append(w.Vars, strings.TrimSpace(v))
		}
		off = len(m[0])
	}
	e, prob := parseExpr(s[off:], func(o int) (int, int) { return items.at(off + o) })
	if prob != nil {
		p.add(prob)
		return nil
	}
	w.Items = e
	return w
}

// retry reads retry: {count, delay, when}.
func (p *parser) retry(n node) *Retry {
	m, ok := p.mapping(n, "retry", retryKeys)
	if !ok {
		return nil
	}
	r := &Retry{}
	if _, ok := m["count"]; ok {
		r.Count = p.whole(p.child(n, "count"), "retry count", "retries", maxRetryCount)
	} else {
		p.errorf(n, "retry needs count:, how many times to run the task again")
	}
	if _, ok := m["delay"]; ok {
		r.Delay = p.seconds(p.child(n, "delay"), "retry delay")
	}
	if _, ok := m["when"]; ok {
		r.When = p.expr(p.child(n, "when"), "retry when")
	}
	return r
}

// expr reads a string that is one expression.
func (p *parser) expr(n node, what string) *Expr {
	s, ok := n.v.(string)
	if !ok {
		if b, isBool := n.v.(bool); isBool {
			s = fmt.Sprint(b) // when: true
		} else {
			p.errorf(n, "%s must be an expression such as <%% succeeded() %%>; found %s", what, yamlsrc.Describe(n.v))
			return nil
		}
	}
	e, prob := parseExpr(s, n.at)
	if prob != nil {
		p.add(prob)
		return nil
	}
	return e
}

// next reads next: [{when, publish, do}].
func (p *parser) next(n node) []*Transition {
	l, ok := n.v.([]any)
	if !ok {
		p.errorf(n, "next must be a list of transitions ({when, publish, do}); found %s", yamlsrc.Describe(n.v))
		return nil
	}
	var out []*Transition
	for i := range l {
		en := p.item(n, i)
		m, ok := p.mapping(en, "a transition", transitionKeys)
		if !ok {
			continue
		}
		line, col := en.pos()
		tr := &Transition{Line: line, col: col}
		if _, ok := m["when"]; ok {
			tr.When = p.expr(p.child(en, "when"), "when")
		}
		if _, ok := m["publish"]; ok {
			tr.Publish = p.publish(p.child(en, "publish"))
		}
		if _, ok := m["do"]; ok {
			p.do(p.child(en, "do"), tr)
		}
		out = append(out, tr)
	}
	return out
}

// publish reads publish: [{k: v}] | {k: v} | "k=v k2=v2".
func (p *parser) publish(n node) []Assign {
	s, ok := n.v.(string)
	if !ok {
		return p.assigns(n, "publish")
	}
	pairs, prob := inlineParams(s, 0)
	if prob != nil {
		prob.Line, prob.Col = n.at(prob.Col)
		p.add(prob)
		return nil
	}
	var out []Assign
	for _, kv := range pairs {
		line, col := n.at(kv.keyOff)
		if !p.checkName(node{line: line, col: col}, "publish", kv.key) {
			continue
		}
		v, prob := p.inlineValue(n, kv)
		if prob != nil {
			p.add(prob)
			continue
		}
		out = append(out, Assign{Name: kv.key, Value: v, Line: line})
	}
	return out
}

// do reads do: [a, b] | "a, b" | a.
func (p *parser) do(n node, tr *Transition) {
	add := func(name string, line, col int) {
		name = strings.TrimSpace(name)
		if name == "" {
			p.errorAt(line, col, "do names an empty task")
			return
		}
		tr.Do = append(tr.Do, name)
		tr.doPos = append(tr.doPos, [2]int{line, col})
	}
	switch v := n.v.(type) {
	case string:
		off := 0
		for _, part := range strings.Split(v, ",") {
			lead := len(part) - len(strings.TrimLeft(part, " "))
			line, col := n.at(off + lead)
			add(part, line, col)
			off += len(part) + 1
		}
	case []any:
		for i, e := range v {
			en := p.item(n, i)
			s, ok := e.(string)
			if !ok {
				p.errorf(en, "do lists task names; found %s", yamlsrc.Describe(e))
				continue
			}
			line, col := en.pos()
			add(s, line, col)
		}
	default:
		p.errorf(n, "do must be a task name, a list of them, or \"a, b\"; found %s", yamlsrc.Describe(n.v))
	}
}
