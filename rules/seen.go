package rules

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/expr-lang/expr/ast"
)

// What a criteria expression saw: the Env paths it reads and their values, for the reason a rule
// did not match.

// envPath is a constant path into the Env that an expression reads, like event.payload.level.
type envPath struct {
	text string
	segs []any // string keys and int indexes, from the root
}

// maxSeenPaths bounds how many paths a reason shows.
const maxSeenPaths = 5

// readPaths lists the constant Env paths a compiled tree reads, outermost accesses only, in the
// order they appear, without duplicates.
func readPaths(root ast.Node) []envPath {
	inner := map[ast.Node]bool{}
	var calls []*ast.CallNode
	ast.Walk(&root, visitFunc(func(n ast.Node) {
		c, ok := n.(*ast.CallNode)
		if !ok {
			return
		}
		if a, ok := accessCall(c); ok {
			calls = append(calls, c)
			inner[a.base] = true
		}
	}))
	var out []envPath
	seenText := map[string]bool{}
	for _, c := range calls {
		if inner[c] {
			continue
		}
		p, ok := constPath(c)
		if ok && !seenText[p.text] {
			seenText[p.text] = true
			out = append(out, p)
		}
	}
	return out
}

// constPath follows a chain of access calls down to an Env root; ok is false when a key is
// computed or the chain does not start at a root.
func constPath(n ast.Node) (envPath, bool) {
	switch n := n.(type) {
	case *ast.IdentifierNode:
		for _, r := range roots {
			if n.Value == r {
				return envPath{text: r, segs: []any{r}}, true
			}
		}
	case *ast.CallNode:
		a, ok := accessCall(n)
		if !ok {
			return envPath{}, false
		}
		p, ok := constPath(a.base)
		if !ok {
			return envPath{}, false
		}
		var seg any
		switch k := a.key.(type) {
		case *ast.StringNode:
			seg = k.Value
		case *ast.IntegerNode:
			seg = k.Value
		default:
			return envPath{}, false
		}
		return envPath{text: a.path, segs: append(append([]any{}, p.segs...), seg)}, true
	}
	return envPath{}, false
}

// visitFunc adapts a function to ast.Visitor.
type visitFunc func(ast.Node)

// Visit implements ast.Visitor.
func (f visitFunc) Visit(n *ast.Node) { f(*n) }

// seen renders the values of paths in env, after sep: `; saw event.payload.level = "info",
// event.payload.count = (missing)`; empty when there are no paths.
func seen(paths []envPath, env Env, sep string) string {
	if len(paths) == 0 {
		return ""
	}
	parts := make([]string, 0, min(len(paths), maxSeenPaths)+1)
	for i, p := range paths {
		if i == maxSeenPaths {
			parts = append(parts, "…")
			break
		}
		v, found, err := lookupEnv(env, p.segs)
		text := "(missing)"
		switch {
		case err != nil:
			text = "(" + err.Error() + ")"
		case found:
			text = briefValue(v)
		}
		parts = append(parts, p.text+" = "+text)
	}
	return sep + "saw " + strings.Join(parts, ", ")
}

// readsNothing reports whether one of paths is missing or null in env.
func readsNothing(paths []envPath, env Env) bool {
	for _, p := range paths {
		if v, found, err := lookupEnv(env, p.segs); err == nil && (!found || v == nil) {
			return true
		}
	}
	return false
}

// lookupEnv follows segs from the root of env. A value on the way that cannot hold the next key
// (a number, a string) is an error, not a missing value.
func lookupEnv(env Env, segs []any) (v any, found bool, err error) {
	v = map[string]any(env)
	for _, s := range segs {
		next, found, err := fetch(v, s)
		if err != nil || !found {
			return nil, false, err
		}
		v = next
	}
	return v, true, nil
}

// briefValue is brief for any value, including those JSON cannot encode.
func briefValue(v any) string {
	if _, err := json.Marshal(v); err != nil {
		return fmt.Sprintf("%v", v)
	}
	return brief(v)
}
