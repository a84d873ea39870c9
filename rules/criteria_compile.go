package rules

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/attune-run/attune"
)

// invalidError is a validation error whose message is exactly what the user sees; it wraps
// attune.ErrInvalid.
type invalidError struct{ err error }

func (e *invalidError) Error() string   { return e.err.Error() }
func (e *invalidError) Unwrap() []error { return []error{e.err, attune.ErrInvalid} }

// invalid formats a validation error; %w is honoured.
func invalid(format string, args ...any) error {
	return &invalidError{err: fmt.Errorf(format, args...)}
}

// clip shortens raw JSON for an error message.
func clip(raw []byte) string {
	return quote(string(raw))
}

// location names the parts of one criterion in error messages.
type location struct {
	field, operator, value string
}

// compileList compiles the list form: [{"field", "operator", "value"}, …].
func compileList(raw json.RawMessage) (*Criteria, error) {
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, invalid("criteria: %v", err)
	}
	c := &Criteria{}
	for i, item := range items {
		at := fmt.Sprintf("criteria[%d]", i)
		keys, err := object(item, at, "field", "operator", "value")
		if err != nil {
			return nil, err
		}
		field, err := requiredString(keys["field"], at+".field")
		if err != nil {
			return nil, err
		}
		cond, err := newCondition(field, keys["operator"], keys["value"],
			location{field: at + ".field", operator: at + ".operator", value: at + ".value"})
		if err != nil {
			return nil, err
		}
		c.conditions = append(c.conditions, cond)
	}
	return c, nil
}

// compileObject compiles the map form or the expression form.
func compileObject(raw json.RawMessage) (*Criteria, error) {
	keys, values, err := orderedObject(raw)
	if err != nil {
		return nil, err
	}
	if i := slices.Index(keys, "expression"); i >= 0 && bytes.HasPrefix(values[i], []byte(`"`)) {
		if len(keys) > 1 {
			return nil, invalid("criteria: an expression takes no other keys; got %s", strings.Join(keys, ", "))
		}
		return compileExpression(values[i])
	}
	c := &Criteria{}
	for i, key := range keys {
		at := "criteria[" + strconv.Quote(key) + "]"
		parts, err := object(values[i], at, "type", "pattern")
		if err != nil {
			return nil, err
		}
		cond, err := newCondition(key, parts["type"], parts["pattern"],
			location{field: at, operator: at + ".type", value: at + ".pattern"})
		if err != nil {
			return nil, err
		}
		c.conditions = append(c.conditions, cond)
	}
	return c, nil
}

// orderedObject reads a JSON object's keys in document order, rejecting duplicates (which a
// plain map would silently collapse).
func orderedObject(raw json.RawMessage) (keys []string, values []json.RawMessage, err error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if _, err := dec.Token(); err != nil { // '{'
		return nil, nil, invalid("criteria: %v", err)
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, invalid("criteria: %v", err)
		}
		key, _ := tok.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, nil, invalid("criteria[%q]: %v", key, err)
		}
		if slices.Contains(keys, key) {
			return nil, nil, invalid("criteria[%q]: appears twice; every criterion must name a different field", key)
		}
		keys = append(keys, key)
		values = append(values, v)
	}
	if _, err := dec.Token(); err != nil { // '}'
		return nil, nil, invalid("criteria: %v", err)
	}
	if _, err := dec.Token(); err == nil {
		return nil, nil, invalid("criteria: unexpected data after the closing brace")
	}
	return keys, values, nil
}

// object decodes one criterion object, rejecting keys other than allowed (typo protection).
func object(raw json.RawMessage, at string, allowed ...string) (map[string]json.RawMessage, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		return nil, invalid("%s: must be an object with keys %s; got %s", at, strings.Join(allowed, ", "), clip(raw))
	}
	var unknown []string
	for k := range m {
		if !slices.Contains(allowed, k) {
			unknown = append(unknown, strconv.Quote(k))
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		return nil, invalid("%s: unknown key %s; known: %s", at, strings.Join(unknown, ", "), strings.Join(allowed, ", "))
	}
	return m, nil
}

// newCondition compiles one field criterion; opRaw and valueRaw are raw JSON, valueRaw nil when
// absent.
func newCondition(field string, opRaw, valueRaw json.RawMessage, at location) (condition, error) {
	path, err := parseField(field)
	if err != nil {
		return condition{}, invalid("%s: %v", at.field, err)
	}
	opName, err := requiredString(opRaw, at.operator)
	if err != nil {
		return condition{}, err
	}
	op, err := lookupOperator(opName)
	if err != nil {
		return condition{}, invalid("%s: %v", at.operator, err)
	}
	var value any
	if valueRaw == nil && !op.noValue {
		return condition{}, invalid("%s: required by operator %q", at.value, opName)
	}
	if valueRaw != nil {
		dec := json.NewDecoder(bytes.NewReader(valueRaw))
		dec.UseNumber()
		if err := dec.Decode(&value); err != nil {
			return condition{}, invalid("%s: %v", at.value, err)
		}
	}
	t, err := op.compile(value)
	if err != nil {
		return condition{}, invalid("%s: %v", at.value, err)
	}
	return condition{field: field, path: path, opName: opName, op: op, value: value, test: t}, nil
}

// requiredString decodes a required string part of a criterion.
func requiredString(raw json.RawMessage, at string) (string, error) {
	if raw == nil {
		return "", invalid("%s: required", at)
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", invalid("%s: must be a string; got %s", at, clip(raw))
	}
	return s, nil
}

// compileExpression compiles the expression form; "{{ }}" around the whole expression is
// stripped and error positions refer to the text as written.
func compileExpression(raw json.RawMessage) (*Criteria, error) {
	var text string
	if err := json.Unmarshal(raw, &text); err != nil {
		return nil, invalid("criteria.expression: %v", err)
	}
	src, start := text, position{line: 1, column: 1}
	if strings.Contains(text, "{{") {
		segs, whole, err := scan(text)
		if err != nil {
			return nil, invalid("criteria.expression %s: %v", quote(text), err)
		}
		if !whole {
			return nil, invalid(`criteria.expression %s: write one expression, optionally inside a single "{{ }}"`, quote(text))
		}
		for _, seg := range segs {
			if seg.template {
				src = seg.src
			}
		}
		start = positionAt(text, strings.Index(text, "{{")+2)
	}
	program, err := compile(src)
	if err != nil {
		return nil, invalid("criteria.expression %s: %w", quote(text), exprError(err, start))
	}
	if t := program.Node().Type(); t != nil && t.Kind() != reflect.Bool && t.Kind() != reflect.Interface {
		return nil, invalid("criteria.expression %s: yields %s, want a bool (true or false)", quote(text), t)
	}
	return &Criteria{expr: &expression{src: src, start: start, program: program}}, nil
}
