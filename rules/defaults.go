package rules

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/parser"
	"github.com/expr-lang/expr/types"
	"github.com/expr-lang/expr/vm"
)

// Parameter defaults of StackStorm-shaped actions may be templates over the action's other
// parameters and the pack config: `cmd: "ping -c {{ count }} {{ host }}"`, `url: "{{
// config_context.base_url }}/api"`. Their Env differs from a rule's: each parameter is a root,
// named as the parameter, and RootConfigContext is the pack config. The expression language,
// the filters and the limits are the rules' own.

// RootConfigContext is StackStorm's name for the pack config in parameter defaults.
const RootConfigContext = "config_context"

// RootActionContext is StackStorm's action_context in parameter defaults: {pack, action}
// (action_context.pack is the action's pack ref).
const RootActionContext = "action_context"

// DefaultRefs is what a default template reads.
type DefaultRefs struct {
	Params     []string // parameters it reads, sorted
	ConfigKeys []string // top-level config keys it reads (config_context.KEY), sorted
	// WholeConfig reports that it reads config_context other than by a literal key.
	WholeConfig bool
}

// defaultPrograms caches compiled default templates by parameter names and source.
var defaultPrograms sync.Map // string -> *vm.Program

// CheckDefault compiles the templates of a parameter default s, whose action has the
// parameters params, and returns what they read. A template naming any other root, or one that
// does not compile, is an error naming the template.
func CheckDefault(s string, params []string) (DefaultRefs, error) {
	var refs DefaultRefs
	segs, _, err := scan(s)
	if err != nil {
		return refs, err
	}
	seenP, seenK := map[string]bool{}, map[string]bool{}
	for _, seg := range segs {
		if !seg.template {
			continue
		}
		if _, err := compileDefault(seg.src, params); err != nil {
			msg := exprError(err, templateStart).Error()
			if head, _, cut := strings.Cut(msg, "; known: "); cut {
				msg = head + "; known: " + strings.Join(append([]string{RootConfigContext, RootActionContext}, params...), ", ")
			}
			return refs, fmt.Errorf("template %s: %s", quote(seg.text), msg)
		}
		tree, err := parser.Parse(pipeFilters(seg.src))
		if err != nil {
			return refs, fmt.Errorf("template %s: %w", quote(seg.text), err)
		}
		ast.Walk(&tree.Node, refVisitor{params: params, seenP: seenP, seenK: seenK, whole: &refs.WholeConfig})
	}
	refs.Params = slices.Sorted(maps.Keys(seenP))
	refs.ConfigKeys = slices.Sorted(maps.Keys(seenK))
	return refs, nil
}

// refVisitor collects the parameters and config keys a template reads.
type refVisitor struct {
	params       []string
	seenP, seenK map[string]bool
	whole        *bool
}

// Visit implements ast.Visitor.
func (v refVisitor) Visit(node *ast.Node) {
	switch n := (*node).(type) {
	case *ast.IdentifierNode:
		if slices.Contains(v.params, n.Value) {
			v.seenP[n.Value] = true
		}
	case *ast.MemberNode:
		id, ok := n.Node.(*ast.IdentifierNode)
		if !ok || id.Value != RootConfigContext {
			return
		}
		if key, ok := n.Property.(*ast.StringNode); ok {
			v.seenK[key.Value] = true
		} else {
			*v.whole = true
		}
	}
}

// compileDefault compiles one default template for an action with parameters params.
func compileDefault(src string, params []string) (*vm.Program, error) {
	key := strings.Join(params, ",") + "\x00" + src
	if p, ok := defaultPrograms.Load(key); ok {
		return p.(*vm.Program), nil
	}
	env := types.Map{RootConfigContext: types.TypeOf(map[string]any{}), RootActionContext: types.TypeOf(map[string]any{})}
	for _, name := range params {
		if name == RootConfigContext || name == RootActionContext {
			return nil, fmt.Errorf("a parameter may not be named %s", name)
		}
		env[name] = types.Any // its type is known once a value is given
	}
	opts := append([]expr.Option{expr.Env(env)}, accessOptions(true)...)
	opts = append(opts, filterOptions()...)
	p, err := expr.Compile(pipeFilters(src), append(opts, budgetOptions()...)...)
	if err != nil {
		return nil, err
	}
	defaultPrograms.Store(key, p)
	return p, nil
}

// RenderDefault renders parameter name's default s against vals: every parameter of the action
// by name (nil when it has no value), config_context and action_context. A default that is one template keeps
// the JSON type of its value; otherwise the templates are interpolated as in Render. Errors name
// the parameter and the template.
func RenderDefault(name, s string, vals map[string]any) (any, error) {
	path := "default of parameter " + name
	segs, whole, err := scanTemplates(path, s)
	if err != nil || segs == nil {
		return s, err
	}
	params := make([]string, 0, len(vals))
	for k := range vals {
		if k != RootConfigContext && k != RootActionContext {
			params = append(params, k)
		}
	}
	slices.Sort(params)
	b := newBudget()
	return renderSegments(path, segs, whole, func(seg segment) (any, error) {
		p, err := compileDefault(seg.src, params)
		if err != nil {
			return nil, &templateError{path: path, template: seg.text, err: exprError(err, templateStart), invalid: true}
		}
		v, err := run(p, vals, b)
		if err != nil {
			return nil, &templateError{path: path, template: seg.text, err: exprError(err, templateStart)}
		}
		return v, nil
	})
}

// HasTemplate reports whether s holds a {{ }} template.
func HasTemplate(s string) bool { return strings.Contains(s, "{{") }
