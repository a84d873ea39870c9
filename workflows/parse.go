package workflows

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"

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
	p := &parser{file: file, anchors: map[string]ast.Node{}, index: map[*ast.MappingNode]map[string]*ast.MappingValueNode{}}
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
			p.errorf(p.child(n, "description"), "description must be a string; found %s", yamlsrc.Describe(d))
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
		p.errorf(tasks, "tasks must be a mapping of task names to tasks; found %s", yamlsrc.Describe(tasks.v))
		return w
	}
	if len(p.keys(tasks)) == 0 {
		p.errorf(tasks, "a workflow needs at least one task")
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
	p.errorf(p.child(n, "version"), "version must be 1.0; found %s", yamlsrc.Describe(v))
	return ""
}

// inputs reads input: [name, {name: default}].
func (p *parser) inputs(n node) []Input {
	l, ok := n.v.([]any)
	if !ok {
		p.errorf(n, "input must be a list of names and {name: default} mappings; found %s", yamlsrc.Describe(n.v))
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
			p.errorf(en, "an input is a name or a {name: default} mapping; found %s", yamlsrc.Describe(e))
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
				p.errorf(en, "each entry of %s is a {name: value} mapping; found %s", what, yamlsrc.Describe(e))
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
		p.errorf(n, "%s must be a list of {name: value} mappings; found %s", what, yamlsrc.Describe(n.v))
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
