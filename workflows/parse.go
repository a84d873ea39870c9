package workflows

import (
	"cmp"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/token"

	"github.com/attune-run/attune/internal/yamlsrc"
)

// The keys each mapping of a workflow may hold. Any other key is an error.
var (
	workflowKeys   = []string{"version", "description", "input", "vars", "output", "tasks"}
	taskKeys       = []string{"action", "input", "delay", "join", "with", "retry", "next"}
	withKeys       = []string{"items", "concurrency"}
	retryKeys      = []string{"count", "delay", "when"}
	transitionKeys = []string{"when", "publish", "do"}
)

// reservedTasks are the `do` words no task may be named.
var reservedTasks = []string{DoContinue, DoFail, DoNoop, DoRetry}

// nameRE is what a task, input, var or output name looks like.
var nameRE = regexp.MustCompile(`^\w+$`)

// refRE is what an action ref looks like: pack.name.
var refRE = regexp.MustCompile(`^[\w-]+\.[\w.-]+$`)

// Parse reads one workflow definition (the action's entry point, e.g. workflows/deploy.yaml).
// file is the name used in errors. Syntax problems, unknown keys, bad short forms and
// expressions that do not compile are returned as Problems (each "file:line:col: message").
// YAML goes through the limits every pack file has (nesting, aliases).
func Parse(file string, data []byte) (*Workflow, error) {
	p := &parser{file: file, anchors: map[string]ast.Node{}}
	body, yerr := yamlsrc.Document(data)
	if yerr != nil {
		return nil, Problems{{File: file, Line: yerr.Line, Col: yerr.Col, Msg: yerr.Msg}}
	}
	var raw any
	if err := yaml.NodeToValue(body, &raw); err != nil {
		e := yamlsrc.ParseError(err)
		return nil, Problems{{File: file, Line: e.Line, Col: e.Col, Msg: e.Msg}}
	}
	raw, err := jsonValue(raw)
	if err != nil {
		line, col := yamlsrc.TokenPos(body)
		return nil, Problems{{File: file, Line: line, Col: col, Msg: fmt.Sprintf("the workflow cannot be read as JSON values: %v", err)}}
	}
	ast.Walk(anchorCollector(p.anchors), body)
	w := p.workflow(node{v: raw, ast: body})
	if len(p.probs) > 0 {
		return nil, p.sorted()
	}
	return w, nil
}

// jsonValue round-trips v through encoding/json: numbers become float64 and every map a
// map[string]any, as the values will look once stored as jsonb.
func jsonValue(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var out any
	err = json.Unmarshal(b, &out)
	return out, err
}

// anchorCollector records every anchor's value, so an alias can be located at what it names.
type anchorCollector map[string]ast.Node

// Visit implements ast.Visitor.
func (a anchorCollector) Visit(n ast.Node) ast.Visitor {
	if an, ok := n.(*ast.AnchorNode); ok && an.Name != nil {
		a[an.Name.GetToken().Value] = an.Value
	}
	return a
}

// parser collects the problems of one Parse.
type parser struct {
	file    string
	anchors map[string]ast.Node
	probs   Problems
}

// node is a decoded value together with the syntax node it came from, for positions. ast is
// nil when the value has no node of its own; line and col are then its parent's.
type node struct {
	v         any
	ast       ast.Node
	line, col int
}

// deref looks through anchors, tags and aliases.
func (p *parser) deref(n ast.Node) ast.Node {
	for range 100 {
		switch v := n.(type) {
		case *ast.AnchorNode:
			n = v.Value
		case *ast.TagNode:
			n = v.Value
		case *ast.AliasNode:
			n = p.anchors[v.Value.GetToken().Value]
		default:
			return n
		}
	}
	return n
}

// pos is where n starts.
func (n node) pos() (int, int) {
	if n.ast != nil {
		if l, c := yamlsrc.TokenPos(n.ast); l > 0 {
			return l, c
		}
	}
	return n.line, n.col
}

// at locates byte offset off of a string value: exactly as far as the scalar is written
// character for character (up to an escape or a line break), at the scalar's start beyond.
func (n node) at(off int) (int, int) {
	line, col := n.pos()
	s, ok := n.v.(string)
	if !ok || n.ast == nil || n.ast.GetToken() == nil {
		return line, col
	}
	tk := n.ast.GetToken()
	if lit, ok := n.ast.(*ast.LiteralNode); ok && lit.Value != nil && lit.Value.GetToken() != nil {
		// A block scalar's text starts on the line after its | or >, indented; goccy's column
		// for it is not where it starts, so count the indentation.
		tk = lit.Value.GetToken()
		line, col = tk.Position.Line, len(tk.Origin)-len(strings.TrimLeft(tk.Origin, " "))+1
	}
	raw := strings.TrimLeft(tk.Origin, " \t")
	switch tk.Type {
	case token.DoubleQuoteType, token.SingleQuoteType:
		raw = raw[1:]
		col++
	case token.StringType:
		// goccy places a plain scalar followed by blanks that much to the right: count from
		// the token before it on the line (the ":", "-" or "," it follows) instead.
		if prev := tk.Prev; prev != nil && prev.Position.Line == line {
			col = prev.Position.Column + utf8.RuneCountInString(prev.Value) + len(tk.Origin) - len(raw)
		}
	default:
		return line, col
	}
	if off > sameUntil(raw, s) {
		return n.pos() // past an escape or a line break: the text no longer maps column for column
	}
	return line, col + utf8.RuneCountInString(s[:off])
}

// sameUntil is the length of the common prefix of a and b that holds no line break.
func sameUntil(a, b string) int {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] && a[i] != '\n' {
		i++
	}
	return i
}

// child is the value of key in mapping n.
func (p *parser) child(n node, key string) node {
	m, _ := n.v.(map[string]any)
	line, col := n.pos()
	c := node{v: m[key], line: line, col: col}
	if kv := yamlsrc.FindKey(p.deref(n.ast), key); kv != nil {
		c.ast = p.deref(kv.Value)
		c.line, c.col = yamlsrc.TokenPos(kv.Key)
		if c.ast != nil && c.ast.GetToken() == nil {
			c.ast = nil
		}
	}
	return c
}

// keyPos is where key is written in mapping n.
func (p *parser) keyPos(n node, key string) (int, int) {
	if kv := yamlsrc.FindKey(p.deref(n.ast), key); kv != nil {
		return yamlsrc.TokenPos(kv.Key)
	}
	return n.pos()
}

// item is element i of list n.
func (p *parser) item(n node, i int) node {
	l, _ := n.v.([]any)
	line, col := n.pos()
	c := node{v: l[i], line: line, col: col}
	if seq, ok := p.deref(n.ast).(*ast.SequenceNode); ok && i < len(seq.Values) {
		c.ast = p.deref(seq.Values[i])
	}
	return c
}

// keys returns the keys of mapping n in the order they are written.
func (p *parser) keys(n node) []string {
	m, _ := n.v.(map[string]any)
	var order []string
	if mn, ok := p.deref(n.ast).(*ast.MappingNode); ok {
		for _, kv := range mn.Values {
			if k := yamlsrc.KeyString(kv.Key); m != nil && !slices.Contains(order, k) {
				if _, ok := m[k]; ok {
					order = append(order, k)
				}
			}
		}
	} else if mv, ok := p.deref(n.ast).(*ast.MappingValueNode); ok {
		order = append(order, yamlsrc.KeyString(mv.Key))
	}
	var rest []string
	for k := range m {
		if !slices.Contains(order, k) {
			rest = append(rest, k)
		}
	}
	slices.Sort(rest)
	return append(order, rest...)
}

// errorf records a problem at n.
func (p *parser) errorf(n node, format string, args ...any) {
	line, col := n.pos()
	p.errorAt(line, col, format, args...)
}

func (p *parser) errorAt(line, col int, format string, args ...any) {
	p.probs = append(p.probs, Problem{File: p.file, Line: line, Col: col, Msg: fmt.Sprintf(format, args...)})
}

// add records a problem found by an expression or value compiler.
func (p *parser) add(prob *Problem) {
	prob.File = p.file
	p.probs = append(p.probs, *prob)
}

// sorted returns the problems in file order.
func (p *parser) sorted() Problems {
	out := slices.Clone(p.probs)
	slices.SortStableFunc(out, func(a, b Problem) int {
		return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Col, b.Col))
	})
	return out
}

// mapping returns n as a mapping whose keys are all among known, recording a problem for each
// other key; ok is false when n is not a mapping.
func (p *parser) mapping(n node, what string, known []string) (map[string]any, bool) {
	m, ok := n.v.(map[string]any)
	if !ok {
		p.errorf(n, "%s must be a mapping with keys %s; found %s", what, strings.Join(known, ", "), describe(n.v))
		return nil, false
	}
	for _, k := range p.keys(n) {
		if slices.Contains(known, k) {
			continue
		}
		line, col := p.keyPos(n, k)
		if close := yamlsrc.Suggest(k, known); close != "" {
			p.errorAt(line, col, "unknown key %q in %s; did you mean %q?", k, what, close)
			continue
		}
		p.errorAt(line, col, "unknown key %q in %s; known keys: %s", k, what, strings.Join(known, ", "))
	}
	return m, true
}

// describe names the JSON type of v for a message.
func describe(v any) string {
	switch v := v.(type) {
	case nil:
		return "nothing (null)"
	case string:
		return fmt.Sprintf("the string %q", clip(v))
	case bool:
		return fmt.Sprintf("the boolean %t", v)
	case float64:
		return fmt.Sprintf("the number %v", v)
	case []any:
		return "a list"
	case map[string]any:
		return "a mapping"
	}
	return fmt.Sprintf("%T", v)
}

// workflow reads the top-level mapping.
func (p *parser) workflow(n node) *Workflow {
	w := &Workflow{File: p.file, Tasks: map[string]*Task{}}
	m, ok := p.mapping(n, "a workflow", workflowKeys)
	if !ok {
		return w
	}
	w.Version = p.version(n, m)
	if d, ok := m["description"]; ok {
		if s, ok := d.(string); ok {
			w.Description = s
		} else {
			p.errorf(p.child(n, "description"), "description must be a string; found %s", describe(d))
		}
	}
	if _, ok := m["input"]; ok {
		w.Input = p.inputs(p.child(n, "input"))
	}
	if _, ok := m["vars"]; ok {
		w.Vars = p.assigns(p.child(n, "vars"), "vars")
	}
	if _, ok := m["output"]; ok {
		w.Output = p.assigns(p.child(n, "output"), "output")
	}
	tasks := p.child(n, "tasks")
	if _, ok := m["tasks"]; !ok {
		p.errorf(n, "a workflow needs tasks:, a mapping of task names to tasks")
		return w
	}
	if _, ok := tasks.v.(map[string]any); !ok {
		p.errorf(tasks, "tasks must be a mapping of task names to tasks; found %s", describe(tasks.v))
		return w
	}
	for _, name := range p.keys(tasks) {
		line, col := p.keyPos(tasks, name)
		switch {
		case !nameRE.MatchString(name):
			p.errorAt(line, col, "task name %q may hold only letters, digits and _", clip(name))
			continue
		case slices.Contains(reservedTasks, name):
			p.errorAt(line, col, "task name %q is reserved for do:; rename the task", name)
			continue
		}
		if t := p.task(p.child(tasks, name), name, line, col); t != nil {
			w.Tasks[name] = t
			w.Order = append(w.Order, name)
		}
	}
	return w
}

// version reads version: 1.0, as a number or a string.
func (p *parser) version(n node, m map[string]any) string {
	v, ok := m["version"]
	if !ok {
		p.errorf(n, "a workflow needs version: 1.0")
		return ""
	}
	switch v := v.(type) {
	case float64:
		if v == 1 {
			return "1.0"
		}
	case string:
		if v == "1.0" || v == "1" {
			return "1.0"
		}
	}
	p.errorf(p.child(n, "version"), "version must be 1.0; found %s", describe(v))
	return ""
}

// inputs reads input: [name, {name: default}].
func (p *parser) inputs(n node) []Input {
	l, ok := n.v.([]any)
	if !ok {
		p.errorf(n, "input must be a list of names and {name: default} mappings; found %s", describe(n.v))
		return nil
	}
	var out []Input
	for i, e := range l {
		en := p.item(n, i)
		switch e := e.(type) {
		case string:
			if p.checkName(en, "input", e) {
				out = append(out, Input{Name: e})
			}
		case map[string]any:
			a := p.assign(en, "input")
			if a != nil {
				out = append(out, Input{Name: a.Name, Default: a.Value})
			}
		default:
			p.errorf(en, "an input is a name or a {name: default} mapping; found %s", describe(e))
		}
	}
	return out
}

// checkName checks a variable name.
func (p *parser) checkName(n node, what, name string) bool {
	if !nameRE.MatchString(name) {
		p.errorf(n, "%s name %q may hold only letters, digits and _", what, clip(name))
		return false
	}
	return true
}

// assigns reads a list of {name: value} mappings, or one mapping, in the order written.
func (p *parser) assigns(n node, what string) []Assign {
	var out []Assign
	switch v := n.v.(type) {
	case []any:
		for i, e := range v {
			en := p.item(n, i)
			if _, ok := e.(map[string]any); !ok {
				p.errorf(en, "each entry of %s is a {name: value} mapping; found %s", what, describe(e))
				continue
			}
			if a := p.assign(en, what); a != nil {
				out = append(out, *a)
			}
		}
	case map[string]any:
		for _, k := range p.keys(n) {
			out = append(out, p.assignOne(n, k, what)...)
		}
	case nil:
	default:
		p.errorf(n, "%s must be a list of {name: value} mappings; found %s", what, describe(n.v))
	}
	return out
}

// assign reads a {name: value} mapping of exactly one key.
func (p *parser) assign(n node, what string) *Assign {
	m := n.v.(map[string]any)
	if len(m) != 1 {
		p.errorf(n, "each entry of %s is a mapping of one name to its value; this one has %d keys", what, len(m))
		return nil
	}
	for k := range m {
		if a := p.assignOne(n, k, what); len(a) == 1 {
			return &a[0]
		}
	}
	return nil
}

// assignOne reads key k of mapping n as an Assign.
func (p *parser) assignOne(n node, k, what string) []Assign {
	c := p.child(n, k)
	line, col := p.keyPos(n, k)
	if !p.checkName(node{line: line, col: col}, what, k) {
		return nil
	}
	v, prob := p.newValue(c)
	if prob != nil {
		p.add(prob)
		return nil
	}
	return []Assign{{Name: k, Value: v, Line: line}}
}

// task reads one task.
func (p *parser) task(n node, name string, line, col int) *Task {
	t := &Task{Name: name, Line: line, Col: col, Input: map[string]*Value{}}
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
			p.errorf(in, "input of task %s must be a mapping of parameter names to values; found %s", name, describe(in.v))
		} else {
			for _, k := range p.keys(in) {
				v, prob := p.newValue(p.child(in, k))
				if prob != nil {
					p.add(prob)
					continue
				}
				t.Input[k] = v
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
		p.errorf(n, "action must be an action ref such as core.echo, optionally followed by k=v parameters; found %s", describe(n.v))
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
	}
}

// seconds reads a non-negative whole number of seconds.
func (p *parser) seconds(n node, what string) int {
	f, ok := n.v.(float64)
	if !ok || f < 0 || f != float64(int(f)) {
		p.errorf(n, "%s must be a whole number of seconds, 0 or more; found %s", what, describe(n.v))
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
	p.errorf(n, "join must be all or a number of inbound branches (1 or more); found %s", describe(n.v))
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
		p.errorf(items, "with items must be an expression such as <%% ctx().hosts %%>, or \"x, y in <%% zip(…) %%>\"; found %s", describe(items.v))
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
		r.Count = p.seconds(p.child(n, "count"), "retry count")
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
			p.errorf(n, "%s must be an expression such as <%% succeeded() %%>; found %s", what, describe(n.v))
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
		p.errorf(n, "next must be a list of transitions ({when, publish, do}); found %s", describe(n.v))
		return nil
	}
	var out []*Transition
	for i := range l {
		en := p.item(n, i)
		m, ok := p.mapping(en, "a transition", transitionKeys)
		if !ok {
			continue
		}
		line, _ := en.pos()
		tr := &Transition{Line: line}
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
				p.errorf(en, "do lists task names; found %s", describe(e))
				continue
			}
			line, col := en.pos()
			add(s, line, col)
		}
	default:
		p.errorf(n, "do must be a task name, a list of them, or \"a, b\"; found %s", describe(n.v))
	}
}
