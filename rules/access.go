package rules

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/vm/runtime"
)

// Member access (a.b, a['b'], a[0]) in templates and criteria expressions.
//
// expr reads a missing map key as nil. That suits criteria, where StackStorm reads a missing
// payload field as None, but not templates, where a misspelt path would silently become null or
// an empty string. So before type checking, accessPatcher rewrites every member access into a
// call of one of two functions: fnGet, which makes a missing key or index an error naming the
// path, and fnGetOpt, which reads it (and anything below a null) as nil. Templates use fnGet
// except on the left of `??` and in `?.` chains, where the user asked for a fallback; criteria
// expressions use fnGetOpt everywhere. Method calls (`system.now.Year()`) are left to expr.
const (
	fnGet    = "__attune_get"
	fnGetOpt = "__attune_get_opt"
)

// accessOptions are the expr options that install the member access functions and the patcher.
func accessOptions(strict bool) []expr.Option {
	return []expr.Option{
		expr.Function(fnGet, getStrict),
		expr.Function(fnGetOpt, getOpt),
		expr.Function(FnDecryptKV, decryptKV),
		expr.Patch(accessPatcher{strict: strict}),
	}
}

// accessPatcher rewrites member access into fnGet or fnGetOpt calls. expr walks the tree
// children first, so a `??` or `?.` chain is seen after its operands were rewritten, and turns
// the strict calls inside back into lenient ones.
type accessPatcher struct{ strict bool }

// Visit implements ast.Visitor.
func (p accessPatcher) Visit(node *ast.Node) {
	switch n := (*node).(type) {
	case *ast.MemberNode:
		if n.Method {
			return
		}
		fn := fnGetOpt
		if p.strict && !n.Optional {
			fn = fnGet
		}
		ast.Patch(node, &ast.CallNode{
			Callee:    &ast.IdentifierNode{Value: fn},
			Arguments: []ast.Node{n.Node, n.Property, &ast.StringNode{Value: memberPath(n)}},
		})
	case *ast.BinaryNode:
		if n.Operator == "??" {
			ast.Walk(&n.Left, lenient{})
		}
	case *ast.ChainNode:
		ast.Walk(&n.Node, lenient{})
	case *ast.CallNode:
		// Jinja's default(x, fallback) is for a missing x, as the left of ??.
		if id, ok := n.Callee.(*ast.IdentifierNode); ok && id.Value == fnDefault && len(n.Arguments) > 0 {
			ast.Walk(&n.Arguments[0], lenient{})
		}
	}
}

// lenient turns fnGet calls into fnGetOpt calls.
type lenient struct{}

// Visit implements ast.Visitor.
func (lenient) Visit(node *ast.Node) {
	if c, ok := (*node).(*ast.CallNode); ok {
		if id, ok := c.Callee.(*ast.IdentifierNode); ok && id.Value == fnGet {
			id.Value = fnGetOpt
		}
	}
}

// memberPath renders a member access for error messages, like `event.payload.tags[0]`. Its base
// is already rewritten (children first), so a rewritten base contributes its recorded path; any
// other computed base shows as `fn(…)` or `(…)`. A computed key ends the path in dynamicKey,
// which the access functions replace with the key's value.
func memberPath(n *ast.MemberNode) string {
	var base string
	switch b := n.Node.(type) {
	case *ast.IdentifierNode:
		base = b.Value
	case *ast.PointerNode:
		base = "#" + b.Name
	case *ast.CallNode:
		if s, ok := accessCall(b); ok {
			base = s.path
		} else if id, ok := b.Callee.(*ast.IdentifierNode); ok {
			base = id.Value + "(…)"
		} else {
			base = "(…)"
		}
	case *ast.BuiltinNode:
		base = b.Name + "(…)"
	default:
		base = "(…)"
	}
	switch p := n.Property.(type) {
	case *ast.StringNode:
		if isIdentifier(p.Value) {
			return base + "." + p.Value
		}
		return base + "[" + strconv.Quote(p.Value) + "]"
	case *ast.IntegerNode:
		return base + "[" + strconv.Itoa(p.Value) + "]"
	}
	return base + dynamicKey
}

// dynamicKey ends the path of a member access whose key is computed.
const dynamicKey = "[?]"

// pathWithKey fills a computed key into path.
func pathWithKey(path string, key any) string {
	if strings.HasSuffix(path, dynamicKey) {
		return strings.TrimSuffix(path, dynamicKey) + "[" + briefValue(key) + "]"
	}
	return path
}

// access is a rewritten member access found in a compiled tree.
type access struct {
	base ast.Node
	key  ast.Node
	path string
}

// accessCall recognises a call that accessPatcher wrote.
func accessCall(c *ast.CallNode) (access, bool) {
	id, ok := c.Callee.(*ast.IdentifierNode)
	if !ok || (id.Value != fnGet && id.Value != fnGetOpt) || len(c.Arguments) != 3 {
		return access{}, false
	}
	path, ok := c.Arguments[2].(*ast.StringNode)
	if !ok {
		return access{}, false
	}
	return access{base: c.Arguments[0], key: c.Arguments[1], path: path.Value}, true
}

func isIdentifier(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// getStrict is fnGet(base, key, path): the member, or an error naming path when it is missing.
func getStrict(params ...any) (any, error) {
	base, key := params[0], params[1]
	path := pathWithKey(params[2].(string), key)
	v, found, err := fetch(base, key)
	switch {
	case err != nil:
		return nil, fmt.Errorf("%s: %w", path, err)
	case found:
		return v, nil
	case base == nil:
		return nil, fmt.Errorf("%s is missing: what it is read from is null; %s", path, defaultHint(path))
	}
	return nil, fmt.Errorf("%s is missing; %s", path, defaultHint(path))
}

// defaultHint says how to supply a default for path.
func defaultHint(path string) string {
	if strings.Contains(path, "(…)") {
		return "supply a default with `?? fallback`"
	}
	return fmt.Sprintf("write `%s ?? fallback` to supply a default", path)
}

// getOpt is fnGetOpt(base, key, path): the member, or nil when it or its base is missing.
func getOpt(params ...any) (any, error) {
	v, _, err := fetch(params[0], params[1])
	if err != nil {
		return nil, fmt.Errorf("%s: %w", pathWithKey(params[2].(string), params[1]), err)
	}
	return v, nil
}

// fetch reads key from base: a key of an object, an index of a list (negative counts from the
// end, as in expr), or, for the values expr's builtins return, whatever expr itself fetches.
// found is false for a missing key, an index out of range, or a nil base.
func fetch(base, key any) (v any, found bool, err error) {
	if v, found, ok, err := fetchKV(base, key); ok {
		return v, found, err
	}
	switch b := base.(type) {
	case nil:
		return nil, false, nil
	case map[string]any:
		k, ok := key.(string)
		if !ok {
			return nil, false, fmt.Errorf("an object's key must be a string; got %s", brief(key))
		}
		v, found = b[k]
		return v, found, nil
	case []any:
		i, ok := toIndex(key)
		if !ok {
			return nil, false, fmt.Errorf("a list's index must be an integer; got %s", brief(key))
		}
		if i < 0 {
			i += len(b)
		}
		if i < 0 || i >= len(b) {
			return nil, false, nil
		}
		return b[i], true, nil
	}
	rv := reflect.ValueOf(base)
	switch rv.Kind() {
	case reflect.Slice, reflect.Array:
		i, ok := toIndex(key)
		if !ok {
			return nil, false, fmt.Errorf("a list's index must be an integer; got %s", brief(key))
		}
		if i < 0 {
			i += rv.Len()
		}
		if i < 0 || i >= rv.Len() {
			return nil, false, nil
		}
		return rv.Index(i).Interface(), true, nil
	case reflect.Map:
		kv := reflect.ValueOf(key)
		if !kv.IsValid() || !kv.Type().ConvertibleTo(rv.Type().Key()) {
			return nil, false, fmt.Errorf("cannot read key %s of %T", brief(key), base)
		}
		r := rv.MapIndex(kv.Convert(rv.Type().Key()))
		if !r.IsValid() {
			return nil, false, nil
		}
		return r.Interface(), true, nil
	}
	defer func() {
		if r := recover(); r != nil {
			v, found, err = nil, false, fmt.Errorf("%v", r)
		}
	}()
	return runtime.Fetch(base, key), true, nil
}

// toIndex converts a list index to int.
func toIndex(key any) (int, bool) {
	n, ok := toNumber(key)
	if !ok || !n.isInt || n.i > math.MaxInt32 || n.i < math.MinInt32 {
		return 0, false
	}
	return int(n.i), true
}
