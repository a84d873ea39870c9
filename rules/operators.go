package rules

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// test is a compiled criterion: it reports whether the field's value passes.
type test func(have any) bool

// operator is one criteria operator. Adding a StackStorm operator means adding one entry to
// operatorTable.
type operator struct {
	names []string // canonical name first, then aliases
	// noValue marks operators that ignore the criterion's value (exists, nexists).
	noValue bool
	// ifMissing is the result when the field is absent from the payload.
	ifMissing bool
	// compile checks the criterion's value and returns the test for a present field.
	compile func(want any) (test, error)
}

// operatorTable lists every operator. Missing fields fail every operator but nexists.
var operatorTable = []operator{
	{names: []string{"equals", "eq"}, compile: binary(equal)},
	{names: []string{"nequals", "neq", "not_equals"}, compile: not(binary(equal))},
	{names: []string{"iequals", "ieq"}, compile: stringOp(strings.EqualFold)},
	{names: []string{"lessthan", "lt"}, compile: ordered(func(c int) bool { return c < 0 })},
	{names: []string{"greaterthan", "gt"}, compile: ordered(func(c int) bool { return c > 0 })},
	{names: []string{"contains"}, compile: binary(contains)},
	{names: []string{"ncontains"}, compile: not(binary(contains))},
	{names: []string{"icontains"}, compile: stringOp(foldContains)},
	{names: []string{"incontains"}, compile: not(stringOp(foldContains))},
	{names: []string{"startswith"}, compile: stringOp(strings.HasPrefix)},
	{names: []string{"istartswith"}, compile: stringOp(foldHasPrefix)},
	{names: []string{"endswith"}, compile: stringOp(strings.HasSuffix)},
	{names: []string{"iendswith"}, compile: stringOp(foldHasSuffix)},
	{names: []string{"regex"}, compile: regex("")},
	{names: []string{"iregex"}, compile: regex("(?i)")},
	{names: []string{"inside", "in"}, compile: inside},
	{names: []string{"ninside", "nin"}, compile: not(inside)},
	{names: []string{"exists"}, noValue: true, compile: always(func(have any) bool { return have != nil })},
	{names: []string{"nexists"}, noValue: true, ifMissing: true, compile: always(func(have any) bool { return have == nil })},
}

// operators maps every operator name and alias to its operator.
var operators = func() map[string]*operator {
	m := make(map[string]*operator)
	for i := range operatorTable {
		for _, name := range operatorTable[i].names {
			m[name] = &operatorTable[i]
		}
	}
	return m
}()

// operatorNames lists every accepted operator name and alias, sorted.
func operatorNames() []string {
	names := make([]string, 0, len(operators))
	for name := range operators {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// lookupOperator finds an operator by name, or explains which names exist.
func lookupOperator(name string) (*operator, error) {
	op, ok := operators[name]
	if !ok {
		return nil, fmt.Errorf("unknown operator %q; known: %s", name, strings.Join(operatorNames(), ", "))
	}
	return op, nil
}

// binary adapts a comparison of the field's value (have) with the criterion's value (want).
func binary(fn func(have, want any) bool) func(any) (test, error) {
	return func(want any) (test, error) {
		return func(have any) bool { return fn(have, want) }, nil
	}
}

// not negates the test another compile function returns.
func not(compile func(any) (test, error)) func(any) (test, error) {
	return func(want any) (test, error) {
		t, err := compile(want)
		if err != nil {
			return nil, err
		}
		return func(have any) bool { return !t(have) }, nil
	}
}

// always ignores the criterion's value.
func always(t test) func(any) (test, error) {
	return func(any) (test, error) { return t, nil }
}

// stringOp requires a string value; a field that is not a string fails the test.
func stringOp(fn func(have, want string) bool) func(any) (test, error) {
	return func(want any) (test, error) {
		w, ok := want.(string)
		if !ok {
			return nil, fmt.Errorf("must be a string; got %s", brief(want))
		}
		return func(have any) bool {
			h, ok := have.(string)
			return ok && fn(h, w)
		}, nil
	}
}

// ordered requires a number or string value; the field must be of the same kind to pass.
func ordered(accept func(cmp int) bool) func(any) (test, error) {
	return func(want any) (test, error) {
		if _, ok := toNumber(want); !ok {
			if _, ok := want.(string); !ok {
				return nil, fmt.Errorf("must be a number or a string; got %s", brief(want))
			}
		}
		return func(have any) bool {
			cmp, ok := order(have, want)
			return ok && accept(cmp)
		}, nil
	}
}

// regex compiles the value as a Go (RE2) regular expression matched anywhere in the field.
func regex(flags string) func(any) (test, error) {
	return func(want any) (test, error) {
		w, ok := want.(string)
		if !ok {
			return nil, fmt.Errorf("must be a regular expression string; got %s", brief(want))
		}
		re, err := regexp.Compile(flags + w)
		if err != nil {
			return nil, fmt.Errorf("invalid regular expression: %w", err)
		}
		return func(have any) bool {
			h, ok := have.(string)
			return ok && re.MatchString(h)
		}, nil
	}
}

// inside is contains reversed: the field's value is in the criterion's list, string or map keys.
func inside(want any) (test, error) {
	switch want.(type) {
	case []any, string, map[string]any:
	default:
		return nil, fmt.Errorf("must be a list, a string or an object; got %s", brief(want))
	}
	return func(have any) bool { return contains(want, have) }, nil
}

func foldContains(have, want string) bool {
	return strings.Contains(strings.ToLower(have), strings.ToLower(want))
}

func foldHasPrefix(have, want string) bool {
	return strings.HasPrefix(strings.ToLower(have), strings.ToLower(want))
}

func foldHasSuffix(have, want string) bool {
	return strings.HasSuffix(strings.ToLower(have), strings.ToLower(want))
}
