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
	field, operator, value, condition string
}

// scope says where a set of field criteria sits: at the top of a rule, where fields are paths into
// the event payload, or in a search pattern, where they are paths into one list item.
type scope struct {
	at      string   // "criteria", or the search pattern's location
	aliases []string // prefixes stripped from fields
}

var topScope = scope{at: "criteria", aliases: payloadAliases}

// compileList compiles the list form: [{"field", "operator", "value"}, …]; a search criterion
// also takes "condition".
func compileList(raw json.RawMessage, sc scope) ([]condition, error) {
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, invalid("%s: %v", sc.at, err)
	}
	conds := []condition{}
	for i, item := range items {
		at := fmt.Sprintf("%s[%d]", sc.at, i)
		keys, err := object(item, at, "field", "operator", "value", "condition")
		if err != nil {
			return nil, err
		}
		field, err := requiredString(keys["field"], at+".field")
		if err != nil {
			return nil, err
		}
		cond, err := newCondition(field, keys["operator"], keys["value"], keys["condition"], sc,
			location{field: at + ".field", operator: at + ".operator", value: at + ".value", condition: at + ".condition"})
		if err != nil {
			return nil, err
		}
		conds = append(conds, cond)
	}
	return conds, nil
}

// compileObject compiles the map form or the expression form.
func compileObject(raw json.RawMessage) (*Criteria, error) {
	keys, values, err := orderedObject(raw, topScope.at)
	if err != nil {
		return nil, err
	}
	if i := slices.Index(keys, "expression"); i >= 0 && bytes.HasPrefix(values[i], []byte(`"`)) {
		if len(keys) > 1 {
			return nil, invalid("criteria: an expression takes no other keys; got %s", strings.Join(keys, ", "))
		}
		return compileExpression(values[i])
	}
	conds, err := compileMap(keys, values, topScope)
	if err != nil {
		return nil, err
	}
	return newFieldCriteria(conds), nil
}

// compileMap compiles StackStorm's map form, {"trigger.level": {"type": …, "pattern": …}, …};
// a search criterion also takes "condition".
func compileMap(keys []string, values []json.RawMessage, sc scope) ([]condition, error) {
	conds := []condition{}
	for i, key := range keys {
		at := sc.at + "[" + strconv.Quote(key) + "]"
		parts, err := object(values[i], at, "type", "pattern", "condition")
		if err != nil {
			return nil, err
		}
		cond, err := newCondition(key, parts["type"], parts["pattern"], parts["condition"], sc,
			location{field: at, operator: at + ".type", value: at + ".pattern", condition: at + ".condition"})
		if err != nil {
			return nil, err
		}
		conds = append(conds, cond)
	}
	return conds, nil
}

// orderedObject reads a JSON object's keys in document order, rejecting duplicates (which a
// plain map would silently collapse).
func orderedObject(raw json.RawMessage, at string) (keys []string, values []json.RawMessage, err error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if _, err := dec.Token(); err != nil { // '{'
		return nil, nil, invalid("%s: %v", at, err)
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, invalid("%s: %v", at, err)
		}
		key, _ := tok.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, nil, invalid("%s[%q]: %v", at, key, err)
		}
		if slices.Contains(keys, key) {
			return nil, nil, invalid("%s[%q]: appears twice; every criterion must name a different field", at, key)
		}
		keys = append(keys, key)
		values = append(values, v)
	}
	if _, err := dec.Token(); err != nil { // '}'
		return nil, nil, invalid("%s: %v", at, err)
	}
	if _, err := dec.Token(); err == nil {
		return nil, nil, invalid("%s: unexpected data after the closing brace", at)
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

// newCondition compiles one field criterion; opRaw, valueRaw and condRaw are raw JSON, nil when
// absent.
func newCondition(field string, opRaw, valueRaw, condRaw json.RawMessage, sc scope, at location) (condition, error) {
	path, err := parseField(field, sc.aliases)
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
	cond := condition{field: field, path: path, opName: opName, op: op}
	if op.search {
		cond.search, err = compileSearch(valueRaw, condRaw, at)
		return cond, err
	}
	if condRaw != nil {
		return condition{}, invalid("%s: only the search operator takes a condition; remove it", at.condition)
	}
	if valueRaw == nil && !op.noValue {
		return condition{}, invalid("%s: required by operator %q", at.value, opName)
	}
	if valueRaw != nil {
		dec := json.NewDecoder(bytes.NewReader(valueRaw))
		dec.UseNumber()
		if err := dec.Decode(&cond.value); err != nil {
			return condition{}, invalid("%s: %v", at.value, err)
		}
	}
	if s, ok := patternTemplate(cond.value); ok && sc.at == topScope.at && !op.noValue {
		if err := checkPatternTemplate(s); err != nil {
			return condition{}, invalid("%s: %v", at.value, err)
		}
		cond.tmpl = s
		return cond, nil
	}
	if cond.test, err = op.compile(cond.value); err != nil {
		return condition{}, invalid("%s: %v", at.value, err)
	}
	return cond, nil
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
	program, err := compile(src, false)
	if err != nil {
		return nil, invalid("criteria.expression %s: %w", quote(text), exprError(err, start))
	}
	if t := resultType(src, false); t != nil && t.Kind() != reflect.Bool && t.Kind() != reflect.Interface {
		return nil, invalid("criteria.expression %s: yields %s, want a bool (true or false)", quote(text), t)
	}
	return &Criteria{expr: &expression{src: src, start: start, program: program, paths: readPaths(program.Node())}}, nil
}
