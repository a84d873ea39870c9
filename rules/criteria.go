package rules

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/expr-lang/expr/vm"
)

// Criteria is a compiled rule criteria. Compile once at registration with CompileCriteria,
// evaluate per event with Match. It is safe for concurrent use. A nil *Criteria matches
// everything.
type Criteria struct {
	conditions []condition // AND of all; empty matches everything
	expr       *expression // set for the expression form
	templated  bool        // some condition's pattern is a template (see pattern.go)
}

// condition is one compiled field criterion of the list or map form.
type condition struct {
	field  string // as written, for reasons
	path   fieldPath
	opName string // as written, for reasons
	op     *operator
	value  any // as written, for reasons
	test   test
	search *searchSpec // set for the search operator, instead of test
	tmpl   string      // a templated pattern, rendered per event (see pattern.go); test is then set per event
}

// expression is a compiled criteria expression.
type expression struct {
	src     string
	start   position // where src starts in the user's text (after any "{{")
	program *vm.Program
	paths   []envPath // the Env paths it reads, shown with their values when it is false
}

// Outcome says whether a rule matched an event and, if not, why.
type Outcome struct {
	Matched bool
	// Reason says, for a miss, which criterion failed and the value it saw, e.g.
	// `level: equals "error": saw "info"`, `level: equals "error": missing` or `expression
	// "event.payload.count > 3" is false; saw event.payload.count = 2`. It is empty on a match.
	Reason string
}

// CompileCriteria parses rule criteria JSON. nil, `null`, `{}` and `[]` compile to
// match-everything. Three forms are accepted:
//
//   - a list, AND of all: [{"field": "level", "operator": "equals", "value": "error"}, …]
//   - StackStorm's map, AND of all: {"trigger.level": {"type": "equals", "pattern": "error"}, …}
//   - an expression: {"expression": "event.payload.level == 'error' and event.payload.count > 3"},
//     evaluated with expr-lang/expr; "{{ … }}" around the whole expression is optional.
//
// Fields are dotted paths into the event payload (`user.name`, `tags.0`, `headers['X-Id']`); a
// leading "trigger.", "payload." or "event.payload." is stripped. Operators take StackStorm's
// names in any case (aliases in parentheses): equals (eq), nequals (neq, not_equals), iequals
// (ieq), lessthan (lt), greaterthan (gt), contains, ncontains, icontains, incontains, startswith,
// istartswith, endswith, iendswith, matchwildcard (a shell glob), regex, iregex, matchregex (Go
// RE2 syntax; regex and iregex match anywhere, matchregex at the start), timediff_lt (td_lt),
// timediff_gt (td_gt) (the field is a date, the value its age limit in seconds), exists, nexists
// (null counts as not existing; no value needed), inside (in), ninside (nin), and search, whose
// "condition" (any or all) and nested criteria (fields "item.x") test the items of a list field.
// A missing field reads as null, as in StackStorm: it fails every operator but nequals, ninside
// and nexists. Numbers compare numerically whatever their Go type; a string never equals a
// number. An unknown operator is an error listing the known ones. Errors wrap attune.ErrInvalid
// and name the criterion (`criteria[1].operator`, `criteria["trigger.level"].pattern`,
// `criteria.expression` with line and column).
func CompileCriteria(raw json.RawMessage) (*Criteria, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return &Criteria{}, nil
	}
	switch raw[0] {
	case '[':
		conds, err := compileList(raw, topScope)
		if err != nil {
			return nil, err
		}
		return newFieldCriteria(conds), nil
	case '{':
		return compileObject(raw)
	}
	return nil, invalid("criteria: must be a list of conditions, an object of conditions or {\"expression\": …}; got %s", clip(raw))
}

// newFieldCriteria wraps field conditions, noting whether a pattern is templated.
func newFieldCriteria(conds []condition) *Criteria {
	c := &Criteria{conditions: conds}
	for _, cond := range conds {
		if cond.tmpl != "" {
			c.templated = true
		}
	}
	return c
}

// Match evaluates the criteria against env, built with NewEnv. Field criteria look into
// env["event"]["payload"], and timediff operators measure from env's system.now; the expression
// form sees the whole env (`event.payload.level`, `pack.config.x`), and a missing key in it reads
// as nil. A miss says which criterion failed and the value it saw. An expression that fails to
// evaluate, or does not yield a bool, returns an error.
func (c *Criteria) Match(env Env) (Outcome, error) {
	if c == nil {
		return Outcome{Matched: true}, nil
	}
	if c.expr != nil {
		return c.expr.match(env)
	}
	conds := c.conditions
	if c.templated {
		var missing string
		var err error
		if conds, missing, err = resolvePatterns(conds, env); err != nil || missing != "" {
			return Outcome{Reason: missing}, err
		}
	}
	if reason, ok := matchAll(conds, env.payload(), env.now()); !ok {
		return Outcome{Reason: reason}, nil
	}
	return Outcome{Matched: true}, nil
}

// match tests one condition against v (the payload, or a list item in a search) and explains a
// miss. A missing field is tested as null.
func (cond condition) match(v any, now time.Time) (reason string, ok bool) {
	have, present := cond.path.lookup(v)
	if cond.search != nil {
		return cond.search.match(cond, have, present, now)
	}
	if cond.test(have, now) {
		return "", true
	}
	saw := "saw " + brief(have)
	if !present {
		saw = "missing"
	}
	if cond.op.noValue {
		return fmt.Sprintf("%s: %s: %s", cond.field, cond.opName, saw), false
	}
	return fmt.Sprintf("%s: %s %s: %s", cond.field, cond.opName, brief(cond.value), saw), false
}

// match evaluates the expression; it must yield a bool.
func (e *expression) match(env Env) (Outcome, error) {
	v, err := run(e.program, env, newBudget())
	if err != nil && readsNothing(e.paths, env) {
		// A missing or null field fails the expression, as a missing field fails a field
		// criterion and as StackStorm's comparison with None does: the event does not match.
		return Outcome{Reason: fmt.Sprintf("expression %s does not hold: %v%s", quote(e.src), exprError(err, e.start), seen(e.paths, env, "; "))}, nil
	}
	if err != nil {
		return Outcome{}, fmt.Errorf("criteria.expression %s: %w%s", quote(e.src), exprError(err, e.start), seen(e.paths, env, "; "))
	}
	b, ok := v.(bool)
	if !ok {
		return Outcome{}, fmt.Errorf("criteria.expression %s: got %s (%T), want true or false; compare explicitly, e.g. `x == true`", quote(e.src), brief(v), v)
	}
	if !b {
		return Outcome{Reason: fmt.Sprintf("expression %s is false%s", quote(e.src), seen(e.paths, env, "; "))}, nil
	}
	return Outcome{Matched: true}, nil
}

// IsExpression reports whether the criteria are an expression, which may read the whole Env
// (pack.config, rule, system), rather than fields of the event payload.
func (c *Criteria) IsExpression() bool {
	return c != nil && c.expr != nil
}
