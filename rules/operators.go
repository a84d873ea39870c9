package rules

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

// test is a compiled criterion: it reports whether the field's value passes. have is nil when
// the field is missing, as StackStorm reads a missing field as None; now is the time the event
// is evaluated at (for timediff_lt and timediff_gt).
type test func(have any, now time.Time) bool

// operator is one criteria operator. Adding a StackStorm operator means adding one entry to
// operatorTable.
type operator struct {
	names []string // canonical name first, then aliases
	// noValue marks operators that ignore the criterion's value (exists, nexists).
	noValue bool
	// search marks the search operator, whose value is nested criteria applied to list items.
	search bool
	// compile checks the criterion's value and returns the test.
	compile func(want any) (test, error)
}

// operatorTable lists every operator with StackStorm's spellings (st2common/operators.py), plus
// not_equals from attune's predecessor. A value of the wrong type fails the test, as the
// TypeError it raises in StackStorm does.
var operatorTable = []operator{
	{names: []string{"equals", "eq"}, compile: binary(equal)},
	{names: []string{"nequals", "neq", "not_equals"}, compile: not(binary(equal))},
	{names: []string{"iequals", "ieq"}, compile: stringOp(strings.EqualFold)},
	{names: []string{"lessthan", "lt"}, compile: ordered(func(c int) bool { return c < 0 })},
	{names: []string{"greaterthan", "gt"}, compile: ordered(func(c int) bool { return c > 0 })},
	{names: []string{"contains"}, compile: binary(contains)},
	{names: []string{"ncontains"}, compile: binary(notContains)},
	{names: []string{"icontains"}, compile: stringOp(foldContains)},
	{names: []string{"incontains"}, compile: stringOp(func(h, w string) bool { return !foldContains(h, w) })},
	{names: []string{"startswith"}, compile: stringOp(strings.HasPrefix)},
	{names: []string{"istartswith"}, compile: stringOp(foldHasPrefix)},
	{names: []string{"endswith"}, compile: stringOp(strings.HasSuffix)},
	{names: []string{"iendswith"}, compile: stringOp(foldHasSuffix)},
	{names: []string{"matchwildcard"}, compile: wildcard},
	{names: []string{"regex"}, compile: regex("", "")},
	{names: []string{"iregex"}, compile: regex("(?i)", "")},
	{names: []string{"matchregex"}, compile: regex("(?s)^(?:", ")")}, // deprecated in StackStorm: anchored at the start
	{names: []string{"timediff_lt", "td_lt"}, compile: timediff(func(age, limit float64) bool { return age < limit })},
	{names: []string{"timediff_gt", "td_gt"}, compile: timediff(func(age, limit float64) bool { return age > limit })},
	{names: []string{"exists"}, noValue: true, compile: always(func(have any, _ time.Time) bool { return have != nil })},
	{names: []string{"nexists"}, noValue: true, compile: always(func(have any, _ time.Time) bool { return have == nil })},
	{names: []string{"inside", "in"}, compile: inside},
	{names: []string{"ninside", "nin"}, compile: notInside},
	{names: []string{"search"}, search: true},
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

// lookupOperator finds an operator by name, in any case as StackStorm does, or explains which
// names exist.
func lookupOperator(name string) (*operator, error) {
	op, ok := operators[strings.ToLower(name)]
	if !ok {
		return nil, fmt.Errorf("unknown operator %q; known: %s", name, strings.Join(operatorNames(), ", "))
	}
	return op, nil
}

// binary adapts a comparison of the field's value (have) with the criterion's value (want).
func binary(fn func(have, want any) bool) func(any) (test, error) {
	return func(want any) (test, error) {
		return func(have any, _ time.Time) bool { return fn(have, want) }, nil
	}
}

// not negates the test another compile function returns.
func not(compile func(any) (test, error)) func(any) (test, error) {
	return func(want any) (test, error) {
		t, err := compile(want)
		if err != nil {
			return nil, err
		}
		return func(have any, now time.Time) bool { return !t(have, now) }, nil
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
		return func(have any, _ time.Time) bool {
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
		return func(have any, _ time.Time) bool {
			cmp, ok := order(have, want)
			return ok && accept(cmp)
		}, nil
	}
}

// regex compiles the value as a Go (RE2) regular expression, wrapped in prefix and suffix, and
// matches it anywhere in the field (Python's re.search) unless the wrapping anchors it.
func regex(prefix, suffix string) func(any) (test, error) {
	return func(want any) (test, error) {
		w, ok := want.(string)
		if !ok {
			return nil, fmt.Errorf("must be a regular expression string; got %s", brief(want))
		}
		if _, err := regexp.Compile(w); err != nil {
			return nil, fmt.Errorf("invalid regular expression (Go RE2 syntax): %w", err)
		}
		re, err := regexp.Compile(prefix + w + suffix)
		if err != nil {
			return nil, fmt.Errorf("invalid regular expression (Go RE2 syntax): %w", err)
		}
		return func(have any, _ time.Time) bool {
			h, ok := have.(string)
			return ok && re.MatchString(h)
		}, nil
	}
}

// inside is contains reversed: the field's value is in the criterion's list, string or map keys.
func inside(want any) (test, error) {
	if err := checkContainer(want); err != nil {
		return nil, err
	}
	return func(have any, _ time.Time) bool { return contains(want, have) }, nil
}

// notInside is Python's `value not in pattern`: true for a list without the value, a string
// without the substring, an object without the key; a value the container cannot hold (a number
// in a string, a list as an object key) fails, as its TypeError does in StackStorm.
func notInside(want any) (test, error) {
	if err := checkContainer(want); err != nil {
		return nil, err
	}
	return func(have any, _ time.Time) bool { return notContains(want, have) }, nil
}

func checkContainer(want any) error {
	switch want.(type) {
	case []any, string, map[string]any:
		return nil
	}
	return fmt.Errorf("must be a list, a string or an object; got %s", brief(want))
}

// notContains is Python's `item not in container` for JSON values, false where Python raises
// TypeError: a non-string item in a string, an unhashable item as an object key, or a container
// that is neither a string, a list nor an object (a missing field among them).
func notContains(container, item any) bool {
	switch c := container.(type) {
	case string:
		s, ok := item.(string)
		return ok && !strings.Contains(c, s)
	case []any:
		return !contains(c, item)
	case map[string]any:
		switch item.(type) {
		case []any, map[string]any:
			return false
		}
		return !contains(c, item)
	}
	return false
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
