package rules

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/expr-lang/expr/vm"
)

// Criteria is a compiled rule criteria. Compile once at registration with CompileCriteria,
// evaluate per event with Match. It is safe for concurrent use. A nil *Criteria matches
// everything.
type Criteria struct {
	conditions []condition // AND of all; empty matches everything
	expr       *expression // set for the expression form
}

// condition is one compiled field criterion of the list or map form.
type condition struct {
	field  string // as written, for reasons
	path   fieldPath
	opName string // as written, for reasons
	op     *operator
	value  any // as written, for reasons
	test   test
}

// expression is a compiled criteria expression.
type expression struct {
	src     string
	start   position // where src starts in the user's text (after any "{{")
	program *vm.Program
}

// Outcome says whether a rule matched an event and, if not, why.
type Outcome struct {
	Matched bool
	// Reason says, for a miss, which criterion failed and the value it saw, e.g.
	// `level: equals "error": saw "info"` or `level: missing`. It is empty on a match.
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
// leading "trigger.", "payload." or "event.payload." is stripped. Operators (aliases in
// parentheses): equals (eq), nequals (neq, not_equals), iequals (ieq), lessthan (lt),
// greaterthan (gt), contains, ncontains, icontains, incontains, startswith, istartswith,
// endswith, iendswith, regex, iregex (Go RE2 syntax, matched anywhere), inside (in),
// ninside (nin), exists, nexists (null counts as not existing; no value needed). Numbers compare
// numerically whatever their Go type; a string never equals a number. An unknown operator is an
// error listing the known ones. Errors wrap attune.ErrInvalid and name the criterion
// (`criteria[1].operator`, `criteria["trigger.level"].pattern`, `criteria.expression` with line
// and column).
func CompileCriteria(raw json.RawMessage) (*Criteria, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return &Criteria{}, nil
	}
	switch raw[0] {
	case '[':
		return compileList(raw)
	case '{':
		return compileObject(raw)
	}
	return nil, invalid("criteria: must be a list of conditions, an object of conditions or {\"expression\": …}; got %s", clip(raw))
}

// Match evaluates the criteria against env, built with NewEnv. Field criteria look into
// env["event"]["payload"]; the expression form sees the whole env (`event.payload.level`,
// `pack.config.x`). A field absent from the payload fails every operator but nexists, with the
// reason "<field>: missing". An expression that fails to evaluate, or does not yield a bool,
// returns an error.
func (c *Criteria) Match(env Env) (Outcome, error) {
	if c == nil {
		return Outcome{Matched: true}, nil
	}
	if c.expr != nil {
		return c.expr.match(env)
	}
	payload := env.payload()
	for _, cond := range c.conditions {
		if reason, ok := cond.match(payload); !ok {
			return Outcome{Reason: reason}, nil
		}
	}
	return Outcome{Matched: true}, nil
}

// match tests one condition against the payload and explains a miss.
func (cond condition) match(payload any) (reason string, ok bool) {
	have, present := cond.path.lookup(payload)
	if !present {
		if cond.op.ifMissing {
			return "", true
		}
		return cond.field + ": missing", false
	}
	if cond.test(have) {
		return "", true
	}
	if cond.op.noValue {
		return fmt.Sprintf("%s: %s: saw %s", cond.field, cond.opName, brief(have)), false
	}
	return fmt.Sprintf("%s: %s %s: saw %s", cond.field, cond.opName, brief(cond.value), brief(have)), false
}

// match evaluates the expression; it must yield a bool.
func (e *expression) match(env Env) (Outcome, error) {
	v, err := run(e.program, env)
	if err != nil {
		return Outcome{}, fmt.Errorf("criteria.expression %s: %w", quote(e.src), exprError(err, e.start))
	}
	b, ok := v.(bool)
	if !ok {
		return Outcome{}, fmt.Errorf("criteria.expression %s: got %s (%T), want true or false; compare explicitly, e.g. `x == true`", quote(e.src), brief(v), v)
	}
	if !b {
		return Outcome{Reason: fmt.Sprintf("expression %s is false", quote(e.src))}, nil
	}
	return Outcome{Matched: true}, nil
}
