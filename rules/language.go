package rules

import (
	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/vm"
)

// Language is the rule expression language with other Env roots and more functions, for another
// caller of the same machinery (the workflows package): the same builtins, filters, member
// access and budget, compiled and cached the same way.
type Language struct {
	name  string
	env   map[string]any
	funcs map[string]Func
}

// Func is a function of a Language. It gets the Env the expression runs against (as given to
// Program.Run) and the evaluation's Budget, which it charges for what it allocates.
type Func func(env map[string]any, b *Budget, args ...any) (any, error)

// NewLanguage returns a language named name (a cache key: one name, one language) whose Env has
// roots and whose expressions may also call funcs.
func NewLanguage(name string, roots []string, funcs map[string]Func) *Language {
	env := make(map[string]any, len(roots))
	for _, root := range roots {
		env[root] = map[string]any{}
	}
	return &Language{name: name, env: env, funcs: funcs}
}

// Program is one compiled expression of a Language.
type Program struct{ p *vm.Program }

// Compile compiles src. strict makes reading a missing key an error naming its path, as in
// templates, except on the left of `??` and in `?.` chains; otherwise it reads as nil, as in
// criteria. A compile error is expr's, positioned in src (see expr's file.Error).
func (l *Language) Compile(src string, strict bool) (*Program, error) {
	p, err := compileIn(l, src, strict)
	if err != nil {
		return nil, err
	}
	return &Program{p: p}, nil
}

// Calls reports whether the program calls function name of its Language.
func (p *Program) Calls(name string) bool {
	found := false
	ast.Find(p.p.Node(), func(n ast.Node) bool {
		c, ok := n.(*ast.CallNode)
		if !ok {
			return false
		}
		id, ok := c.Callee.(*ast.IdentifierNode)
		found = found || ok && id.Value == envArg+name
		return found
	})
	return found
}

// Run evaluates the program against env, charging what it allocates to b.
func (p *Program) Run(env map[string]any, b *Budget) (any, error) {
	return expr.Run(p.p, withBudgetMap(env, b.b))
}

// Budget is what is left of ExpressionBudget and IterationBudget for one evaluation (see
// budget.go). It is not safe for concurrent use.
type Budget struct{ b *budget }

// NewBudget returns a full budget.
func NewBudget() *Budget { return &Budget{b: newBudget()} }

// Charge takes n bytes that what is about to produce, or fails without taking any.
func (b *Budget) Charge(what string, n int) error { return b.b.charge(what, n) }

// Iterate takes n items that what is about to visit, or fails.
func (b *Budget) Iterate(what string, n int) error { return b.b.iterate(what, n) }

// JSONSize is the size of v as compact JSON text, or a number above limit once it exceeds it;
// it builds no text.
func JSONSize(v any, limit int) int { return jsonSize(v, false, limit) }

// Interpolate renders the value of one expression inside a longer string, as templates do:
// strings as they are, nil as nothing, everything else as compact JSON.
func Interpolate(v any) (string, error) { return interpolate(v) }

// JSONShape returns v as a JSON value (nil, bool, string, number, map[string]any, []any), as a
// whole template's value is: times become RFC 3339 text, other Go values go through JSON, and a
// number JSON cannot hold (NaN, ±Inf) is an error.
func JSONShape(v any) (any, error) { return jsonShape(v) }

// withBudgetMap is withBudget for a plain map.
func withBudgetMap(env map[string]any, b *budget) map[string]any { return withBudget(Env(env), b) }

// envArg prefixes the name under which a Language function is installed; the patcher rewrites
// `f(args…)` into `<envArg>f($env, args…)`.
const envArg = "__attune_lang_"

// options install the language's functions and the patcher that hands them $env.
func (l *Language) options() []expr.Option {
	opts := []expr.Option{expr.Patch(langPatcher{l})}
	for name, f := range l.funcs {
		opts = append(opts, expr.Function(envArg+name, func(params ...any) (any, error) {
			env, _ := params[0].(map[string]any)
			return f(env, &Budget{b: budgetOf(env)}, params[1:]...)
		}))
	}
	return opts
}

// langPatcher rewrites calls of a Language's functions to pass $env first.
type langPatcher struct{ l *Language }

// Visit implements ast.Visitor.
func (p langPatcher) Visit(node *ast.Node) {
	c, ok := (*node).(*ast.CallNode)
	if !ok {
		return
	}
	id, ok := c.Callee.(*ast.IdentifierNode)
	if !ok || p.l.funcs[id.Value] == nil {
		return
	}
	ast.Patch(node, &ast.CallNode{
		Callee:    &ast.IdentifierNode{Value: envArg + id.Value},
		Arguments: append([]ast.Node{&ast.IdentifierNode{Value: "$env"}}, c.Arguments...),
	})
}
