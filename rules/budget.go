package rules

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"reflect"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/builtin"
	"github.com/expr-lang/expr/vm/runtime"
)

// What evaluating a rule may cost. An event's payload is user input, and one template such as
// `repeat(event.payload.s, 1000000)` would otherwise allocate gigabytes and kill the replica
// that processes the event, and then the next one that the job is redelivered to.
//
// expr itself bounds an expression's size (10,000 nodes) and counts the elements of the arrays,
// maps and ranges it builds (a million per evaluation), but not the bytes of strings. So every
// builtin that builds a string or a collection from its arguments (repeat, join, replace, upper,
// lower, split, splitAfter, toJSON, fromJSON, toBase64, fromBase64, string, keys, values,
// toPairs, fromPairs), `+` and a time's Format method are charged, before they run, what they
// would produce, against ExpressionBudget; and every predicate builtin the items it is about to
// visit, against IterationBudget. A rule's rendered action parameters are bounded by
// MaxRenderedBytes, checked before they are serialised.
const (
	// ExpressionBudget is how many bytes the builtins, `+` and Format may produce while one
	// rule's criteria, or one rule's templates, are evaluated for one event.
	ExpressionBudget = 16 << 20
	// MaxRenderedBytes bounds a rule's rendered action parameters, measured as JSON: room for
	// a whole event payload (at most 1 MiB) passed on as a parameter.
	MaxRenderedBytes = 2 << 20
	// IterationBudget is how many items the predicate builtins (all, any, filter, map, reduce,
	// …) may visit while one rule's criteria, or one rule's templates, are evaluated for one
	// event: nested loops over a payload's lists would otherwise run for hours.
	IterationBudget = 1_000_000
)

// budget is what is left of ExpressionBudget and IterationBudget for one evaluation. It is not
// safe for concurrent use; each evaluation has its own.
type budget struct{ left, steps int }

func newBudget() *budget { return &budget{left: ExpressionBudget, steps: IterationBudget} }

// iterate takes n steps that a predicate builtin (what) is about to visit, or fails.
func (b *budget) iterate(what string, n int) error {
	if n > b.steps {
		return fmt.Errorf("%s would visit %d more items, over what is left of the iteration budget (%d per rule and event; %d left); see Limits in docs/rules.md",
			what, n, IterationBudget, b.steps)
	}
	b.steps -= n
	return nil
}

// charge takes n bytes that what is about to produce, or fails without taking any.
func (b *budget) charge(what string, n int) error {
	if n < 0 || n > b.left {
		size := fmt.Sprintf("%d bytes", n)
		if n < 0 {
			size = "more bytes than memory holds"
		}
		return fmt.Errorf("%s would produce %s, over what is left of the expression budget (%s per rule and event; %d bytes left); see Limits in docs/rules.md",
			what, size, mib(ExpressionBudget), b.left)
	}
	b.left -= n
	return nil
}

// mib formats a byte count in MiB.
func mib(n int) string { return fmt.Sprintf("%d MiB", n>>20) }

// budgetKey holds an evaluation's budget in the map that expr runs against. Expressions cannot
// name it; the charged functions get the map as their first argument ($env).
const budgetKey = "\x00attune_budget"

// withBudget returns a shallow copy of env that carries b.
func withBudget(env Env, b *budget) map[string]any {
	m := make(map[string]any, len(env)+1)
	maps.Copy(m, env)
	m[budgetKey] = b
	return m
}

// budgetOf returns the budget an evaluation carries, or a fresh one.
func budgetOf(env any) *budget {
	if m, ok := env.(map[string]any); ok {
		if b, ok := m[budgetKey].(*budget); ok {
			return b
		}
	}
	return newBudget()
}

// costs says, for each charged builtin, how many bytes a call would produce, from its arguments
// alone. Arguments of the wrong type cost nothing: the builtin rejects them itself.
var costs = map[string]func(args []any) int{
	"repeat": func(args []any) int {
		s, _ := arg[string](args, 0)
		n, ok := intArg(args, 1)
		if !ok || n <= 0 {
			return 0
		}
		if len(s) > math.MaxInt/n {
			return -1
		}
		return len(s) * n
	},
	"join": func(args []any) int {
		sep, _ := arg[string](args, 1)
		total, n := 0, 0
		switch list := at(args, 0).(type) {
		case []string:
			for _, s := range list {
				total += len(s)
			}
			n = len(list)
		case []any:
			for _, e := range list {
				s, _ := e.(string)
				total += len(s)
			}
			n = len(list)
		}
		if n > 1 {
			total += len(sep) * (n - 1)
		}
		return total
	},
	"replace": func(args []any) int {
		s, _ := arg[string](args, 0)
		old, _ := arg[string](args, 1)
		repl, _ := arg[string](args, 2)
		n := strings.Count(s, old)
		if limit, ok := intArg(args, 3); ok && limit >= 0 {
			n = min(n, limit)
		}
		return len(s) + n*len(repl)
	},
	"upper":      stringCost(func(n int) int { return n + n/2 }), // a rune's case may take a byte more
	"lower":      stringCost(func(n int) int { return n + n/2 }),
	"split":      splitCost,
	"splitAfter": splitCost,
	"toJSON":     func(args []any) int { return jsonSize(at(args, 0), true, ExpressionBudget) },
	"fromJSON":   stringCost(func(n int) int { return 8 * n }), // decoded values take more room than their text
	"toBase64":   stringCost(func(n int) int { return n/3*4 + 4 }),
	"fromBase64": stringCost(func(n int) int { return n }),
	"string":     func(args []any) int { return jsonSize(at(args, 0), false, ExpressionBudget) },
	"keys":       collectionCost,
	"values":     collectionCost,
	"toPairs":    collectionCost,
	"fromPairs":  collectionCost,
}

// stringCost charges f(len(s)) for a builtin of one string.
func stringCost(f func(n int) int) func(args []any) int {
	return func(args []any) int {
		s, _ := arg[string](args, 0)
		return f(len(s))
	}
}

// splitCost charges a string header for each part that split or splitAfter would return.
func splitCost(args []any) int {
	s, _ := arg[string](args, 0)
	sep, _ := arg[string](args, 1)
	parts := strings.Count(s, sep) + 1
	if limit, ok := intArg(args, 2); ok && limit > 0 {
		parts = min(parts, limit)
	}
	return 16 * parts
}

// collectionCost charges a few words for each element of a map or list.
func collectionCost(args []any) int {
	v := reflect.ValueOf(at(args, 0))
	switch v.Kind() {
	case reflect.Map, reflect.Slice, reflect.Array:
		return 64 * v.Len()
	}
	return 0
}

// at returns args[i], or nil.
func at(args []any, i int) any {
	if i < len(args) {
		return args[i]
	}
	return nil
}

// arg returns args[i] as a T.
func arg[T any](args []any, i int) (T, bool) {
	v, ok := at(args, i).(T)
	return v, ok
}

// intArg returns args[i] as an int when it is a number.
func intArg(args []any, i int) (int, bool) {
	switch v := at(args, i).(type) {
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, float32, float64:
		return runtime.ToInt(v), true
	}
	return 0, false
}

// Names of the charged functions that budgetPatcher calls instead of the builtins.
const (
	fnCharged = "__attune_charged_" // + the builtin's name
	fnAdd     = "__attune_add"
	fnLayout  = "__attune_layout"
	fnIterate = "__attune_iterate_" // + the predicate builtin's name
)

// predicates are the builtins that loop over their first argument.
var predicates = []string{"all", "none", "any", "one", "filter", "map", "find", "findIndex", "findLast",
	"findLastIndex", "count", "sum", "groupBy", "sortBy", "reduce"}

// budgetOptions install the charged functions and the patcher that calls them.
func budgetOptions() []expr.Option {
	opts := []expr.Option{
		expr.Function(fnAdd, chargedAdd),
		expr.Function(fnLayout, chargedLayout),
		expr.Patch(budgetPatcher{}),
	}
	for name, cost := range costs {
		opts = append(opts, expr.Function(fnCharged+name, charged(name, cost)))
	}
	for _, name := range predicates {
		opts = append(opts, expr.Function(fnIterate+name, iterated(name)))
	}
	return opts
}

// budgetPatcher rewrites each call of a charged builtin `f(args…)` into
// `__attune_charged_f($env, args…)`, each `a + b` into `__attune_add($env, a, b)`, and the layout
// of a Format method call into `__attune_layout($env, layout)`. A program is type-checked as the
// user wrote it before this patcher runs (see compile), so the rewrite changes no error a user
// sees at registration.
type budgetPatcher struct{}

// Visit implements ast.Visitor.
func (budgetPatcher) Visit(node *ast.Node) {
	env := func() ast.Node { return &ast.IdentifierNode{Value: "$env"} }
	switch n := (*node).(type) {
	case *ast.BuiltinNode:
		if slices.Contains(predicates, n.Name) && len(n.Arguments) > 0 {
			n.Arguments[0] = &ast.CallNode{
				Callee:    &ast.IdentifierNode{Value: fnIterate + n.Name},
				Arguments: []ast.Node{env(), n.Arguments[0]},
			}
			return
		}
		if _, ok := costs[n.Name]; ok {
			ast.Patch(node, &ast.CallNode{
				Callee:    &ast.IdentifierNode{Value: fnCharged + n.Name},
				Arguments: append([]ast.Node{env()}, n.Arguments...),
			})
		}
	case *ast.BinaryNode:
		if n.Operator == "+" {
			ast.Patch(node, &ast.CallNode{
				Callee:    &ast.IdentifierNode{Value: fnAdd},
				Arguments: []ast.Node{env(), n.Left, n.Right},
			})
		}
	case *ast.CallNode:
		m, ok := n.Callee.(*ast.MemberNode)
		if !ok || !m.Method || len(n.Arguments) != 1 {
			return
		}
		if name, ok := m.Property.(*ast.StringNode); ok && name.Value == "Format" {
			n.Arguments[0] = &ast.CallNode{
				Callee:    &ast.IdentifierNode{Value: fnLayout},
				Arguments: []ast.Node{env(), n.Arguments[0]},
			}
		}
	}
}

// charged returns the function that charges a builtin's cost and then calls it.
func charged(name string, cost func(args []any) int) func(params ...any) (any, error) {
	f := builtin.Builtins[builtin.Index[name]]
	return func(params ...any) (any, error) {
		args := params[1:]
		if err := budgetOf(params[0]).charge(name, cost(args)); err != nil {
			return nil, err
		}
		switch {
		case f.Fast != nil && len(args) == 1:
			return f.Fast(args[0]), nil
		case f.Func != nil:
			return f.Func(args...)
		case f.Safe != nil:
			v, _, err := f.Safe(args...)
			return v, err
		}
		return nil, fmt.Errorf("%s: wrong number of arguments (%d)", name, len(args))
	}
}

// iterated returns the function that charges the items a predicate builtin is about to visit
// and returns its collection.
func iterated(name string) func(params ...any) (any, error) {
	return func(params ...any) (any, error) {
		collection := params[1]
		v := reflect.ValueOf(collection)
		switch v.Kind() {
		case reflect.Slice, reflect.Array, reflect.Map:
			if err := budgetOf(params[0]).iterate(name, v.Len()); err != nil {
				return nil, err
			}
		}
		return collection, nil
	}
}

// chargedAdd is `+`: concatenated strings are charged, everything else is expr's addition.
func chargedAdd(params ...any) (any, error) {
	a, b := params[1], params[2]
	if sa, ok := a.(string); ok {
		if sb, ok := b.(string); ok {
			if err := budgetOf(params[0]).charge("string concatenation (+)", len(sa)+len(sb)); err != nil {
				return nil, err
			}
			return sa + sb, nil
		}
	}
	return runtime.Add(a, b), nil
}

// chargedLayout charges what a Format method may write for a layout (at most about twice its
// length, "1" becoming "12"), and returns the layout.
func chargedLayout(params ...any) (any, error) {
	layout := params[1]
	if s, ok := layout.(string); ok {
		if err := budgetOf(params[0]).charge("Format", 2*len(s)+64); err != nil {
			return nil, err
		}
	}
	return layout, nil
}

// jsonSize returns the size of v's JSON text, as encoding/json would write it (indented by two
// spaces when indent is set), or a number above limit as soon as it exceeds limit. It walks v
// without building the text, so the size of a value too large to render is known before it
// is rendered.
func jsonSize(v any, indent bool, limit int) int {
	s := sizer{indent: indent, limit: limit}
	s.value(v, 0)
	return s.n
}

// sizer adds up a JSON text's size.
type sizer struct {
	indent bool
	limit  int
	n      int
}

// over reports whether the size already exceeds the limit.
func (s *sizer) over() bool { return s.n > s.limit }

// element adds what precedes an element of an object or array at depth: a comma, and with
// indentation a newline and the indentation.
func (s *sizer) element(depth int) {
	s.n++
	if s.indent {
		s.n += 1 + 2*(depth+1)
	}
}

func (s *sizer) value(v any, depth int) {
	if s.over() {
		return
	}
	switch v := v.(type) {
	case nil:
		s.n += 4
	case bool:
		s.n += 5
	case string:
		s.str(v)
	case json.Number:
		s.n += len(v)
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, float32, float64, time.Duration:
		s.n += 24 // the longest a number takes
	case time.Time:
		s.n += 40
	case map[string]any:
		s.n += 2 + 2*depth
		for k, e := range v {
			s.element(depth)
			s.str(k)
			s.n += 2
			s.value(e, depth+1)
			if s.over() {
				return
			}
		}
	case []any:
		s.n += 2 + 2*depth
		for _, e := range v {
			s.element(depth)
			s.value(e, depth+1)
			if s.over() {
				return
			}
		}
	default:
		s.reflected(reflect.ValueOf(v), depth)
	}
}

// reflected sizes the other lists and maps (such as split's []string); anything else is
// counted as a short value.
func (s *sizer) reflected(v reflect.Value, depth int) {
	switch v.Kind() {
	case reflect.Slice, reflect.Array:
		s.n += 2 + 2*depth
		for i := range v.Len() {
			s.element(depth)
			s.value(v.Index(i).Interface(), depth+1)
			if s.over() {
				return
			}
		}
	case reflect.Map:
		s.n += 2 + 2*depth
		it := v.MapRange()
		for it.Next() {
			s.element(depth)
			s.value(fmt.Sprint(it.Key().Interface()), depth+1)
			s.n += 2
			s.value(it.Value().Interface(), depth+1)
			if s.over() {
				return
			}
		}
	case reflect.String:
		s.str(v.String())
	default:
		s.n += 64
	}
}

// str adds a quoted string: escaped quotes and backslashes take two bytes, control characters,
// HTML's <, > and &, invalid UTF-8 and U+2028/U+2029 six.
func (s *sizer) str(v string) {
	s.n += 2
	for i := 0; i < len(v); {
		c := v[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				s.n += 2
			case c < 0x20 || c == '<' || c == '>' || c == '&':
				s.n += 6
			default:
				s.n++
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(v[i:])
		if r == utf8.RuneError && size == 1 || r == '\u2028' || r == '\u2029' {
			s.n += 6
		} else {
			s.n += size
		}
		i += size
		if s.over() {
			return
		}
	}
}
