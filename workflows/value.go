package workflows

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/attune-run/attune/rules"
)

// Value is a YAML value (scalar, list or map) whose strings may hold {{ }} or <% %> expressions.
// Render evaluates them: a string that is exactly one expression yields that expression's value
// with its own type; a string mixing text and expressions yields the interpolated string; maps and
// lists are rendered element by element. Errors name the expression and its line.
type Value struct {
	lit  any       // a scalar without expressions, or a list or map holding none
	segs []segment // a string with expressions
	list []*Value
	dict map[string]*Value
}

// Literal returns the value without evaluating anything, and whether it holds no expression.
func (v *Value) Literal() (any, bool) {
	if v.segs == nil && v.list == nil && v.dict == nil {
		return v.lit, true
	}
	return nil, false
}

// Render evaluates the value's expressions against env. A nil Value renders to nil. The result
// is the caller's: it shares nothing with v, so it may be modified.
func (v *Value) Render(env *Env) (any, error) {
	if v == nil {
		return nil, nil
	}
	out, err := v.render(env, rules.NewBudget())
	if err != nil {
		return nil, err
	}
	if rules.JSONSize(out, rules.MaxRenderedBytes) > rules.MaxRenderedBytes {
		return nil, fmt.Errorf("the rendered value is larger than %d MiB", rules.MaxRenderedBytes>>20)
	}
	return out, nil
}

func (v *Value) render(env *Env, b *rules.Budget) (any, error) {
	switch {
	case v.segs != nil:
		return renderSegments(v.segs, env, b)
	case v.list != nil:
		out := make([]any, len(v.list))
		for i, e := range v.list {
			r, err := e.render(env, b)
			if err != nil {
				return nil, err
			}
			out[i] = r
		}
		return out, nil
	case v.dict != nil:
		out := make(map[string]any, len(v.dict))
		for _, k := range slices.Sorted(maps.Keys(v.dict)) { // the first error is always the same one
			r, err := v.dict[k].render(env, b)
			if err != nil {
				return nil, err
			}
			out[k] = r
		}
		return out, nil
	}
	return deepCopy(v.lit), nil
}

// deepCopy copies the lists and maps of a JSON value.
func deepCopy(v any) any {
	switch v := v.(type) {
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = deepCopy(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = deepCopy(e)
		}
		return out
	}
	return v
}

// renderSegments evaluates a string's expressions: one alone keeps its type, several are
// interpolated into the text.
func renderSegments(segs []segment, env *Env, b *rules.Budget) (any, error) {
	if e := whole(segs); e != nil {
		return e.eval(env, b)
	}
	var out strings.Builder
	for _, seg := range segs {
		if seg.expr == nil {
			out.WriteString(seg.text)
			continue
		}
		v, err := seg.expr.eval(env, b)
		if err != nil {
			return nil, err
		}
		if rules.JSONSize(v, rules.MaxRenderedBytes) > rules.MaxRenderedBytes-out.Len() {
			return nil, fmt.Errorf("line %d, column %d: %s: the rendered text is larger than %d MiB", seg.expr.Line, seg.expr.Col, clip(seg.expr.Src), rules.MaxRenderedBytes>>20)
		}
		text, err := rules.Interpolate(v)
		if err != nil {
			return nil, fmt.Errorf("line %d, column %d: %s: %w", seg.expr.Line, seg.expr.Col, clip(seg.expr.Src), err)
		}
		out.WriteString(text)
	}
	return out.String(), nil
}

// newValue builds a Value from a node of the YAML document, compiling its expressions.
func (p *parser) newValue(n node) (*Value, *Problem) {
	switch v := n.v.(type) {
	case string:
		segs, prob := scanString(v, n.at)
		if prob != nil {
			return nil, prob
		}
		if segs == nil {
			return &Value{lit: v}, nil
		}
		return &Value{segs: segs}, nil
	case []any:
		out := &Value{list: make([]*Value, len(v))}
		exprs := false
		for i := range v {
			ev, prob := p.newValue(p.item(n, i))
			if prob != nil {
				return nil, prob
			}
			out.list[i] = ev
			_, lit := ev.Literal()
			exprs = exprs || !lit
		}
		if !exprs {
			return &Value{lit: v}, nil
		}
		return out, nil
	case map[string]any:
		out := &Value{dict: make(map[string]*Value, len(v))}
		exprs := false
		for k := range v {
			ev, prob := p.newValue(p.child(n, k))
			if prob != nil {
				return nil, prob
			}
			out.dict[k] = ev
			_, lit := ev.Literal()
			exprs = exprs || !lit
		}
		if !exprs {
			return &Value{lit: v}, nil
		}
		return out, nil
	}
	return &Value{lit: n.v}, nil
}

// calls reports whether an expression in the value calls function name.
func (v *Value) calls(name string) bool {
	if v == nil {
		return false
	}
	for _, seg := range v.segs {
		if seg.expr != nil && seg.expr.calls(name) {
			return true
		}
	}
	for _, e := range v.list {
		if e.calls(name) {
			return true
		}
	}
	for _, e := range v.dict {
		if e.calls(name) {
			return true
		}
	}
	return false
}
