package rules

import (
	"encoding/json"
	"math"
	"reflect"
	"strings"
)

// number is a JSON number normalised for comparison: integral values within int64 compare
// exactly as integers, everything else as float64.
type number struct {
	i     int64
	f     float64
	isInt bool
}

// toNumber converts any Go numeric type, or a json.Number, to a number. A string holding digits
// is not a number: "1" does not equal 1.
func toNumber(v any) (number, bool) {
	switch n := v.(type) {
	case float64:
		return fromFloat(n), true
	case float32:
		return fromFloat(float64(n)), true
	case int:
		return number{i: int64(n), isInt: true}, true
	case int8:
		return number{i: int64(n), isInt: true}, true
	case int16:
		return number{i: int64(n), isInt: true}, true
	case int32:
		return number{i: int64(n), isInt: true}, true
	case int64:
		return number{i: n, isInt: true}, true
	case uint:
		return fromUint(uint64(n)), true
	case uint8:
		return number{i: int64(n), isInt: true}, true
	case uint16:
		return number{i: int64(n), isInt: true}, true
	case uint32:
		return number{i: int64(n), isInt: true}, true
	case uint64:
		return fromUint(n), true
	case json.Number:
		if i, err := n.Int64(); err == nil {
			return number{i: i, isInt: true}, true
		}
		if f, err := n.Float64(); err == nil {
			return fromFloat(f), true
		}
	}
	return number{}, false
}

func fromFloat(f float64) number {
	if f == math.Trunc(f) && f >= math.MinInt64 && f < math.MaxInt64 {
		return number{i: int64(f), isInt: true}
	}
	return number{f: f}
}

func fromUint(u uint64) number {
	if u <= math.MaxInt64 {
		return number{i: int64(u), isInt: true}
	}
	return number{f: float64(u)}
}

func (n number) float() float64 {
	if n.isInt {
		return float64(n.i)
	}
	return n.f
}

// compareNumbers returns -1, 0 or +1; ok is false when either side is NaN.
func compareNumbers(a, b number) (cmp int, ok bool) {
	if a.isInt && b.isInt {
		switch {
		case a.i < b.i:
			return -1, true
		case a.i > b.i:
			return 1, true
		}
		return 0, true
	}
	af, bf := a.float(), b.float()
	switch {
	case math.IsNaN(af) || math.IsNaN(bf):
		return 0, false
	case af < bf:
		return -1, true
	case af > bf:
		return 1, true
	}
	return 0, true
}

// order compares two numbers or two strings. ok is false for any other pair: there is no
// ordering between a string and a number.
func order(a, b any) (cmp int, ok bool) {
	if an, aok := toNumber(a); aok {
		if bn, bok := toNumber(b); bok {
			return compareNumbers(an, bn)
		}
		return 0, false
	}
	as, aok := a.(string)
	bs, bok := b.(string)
	if !aok || !bok {
		return 0, false
	}
	return strings.Compare(as, bs), true
}

// equal compares JSON-decoded values: numbers numerically whatever their Go type, maps and slices
// element by element with the same rule, everything else exactly. null equals only null.
func equal(a, b any) bool {
	if an, ok := toNumber(a); ok {
		bn, ok := toNumber(b)
		if !ok {
			return false
		}
		cmp, ok := compareNumbers(an, bn)
		return ok && cmp == 0
	}
	if _, ok := toNumber(b); ok {
		return false
	}
	switch av := a.(type) {
	case nil:
		return b == nil
	case string:
		bv, ok := b.(string)
		return ok && av == bv
	case bool:
		bv, ok := b.(bool)
		return ok && av == bv
	case map[string]any:
		bv, ok := b.(map[string]any)
		if !ok || len(av) != len(bv) {
			return false
		}
		for k, x := range av {
			y, ok := bv[k]
			if !ok || !equal(x, y) {
				return false
			}
		}
		return true
	case []any:
		bv, ok := b.([]any)
		if !ok || len(av) != len(bv) {
			return false
		}
		for i := range av {
			if !equal(av[i], bv[i]) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(a, b)
}

// contains reports whether container holds item: a substring of a string, an element of a slice
// (compared with equal) or a key of a map.
func contains(container, item any) bool {
	switch c := container.(type) {
	case string:
		s, ok := item.(string)
		return ok && strings.Contains(c, s)
	case []any:
		for _, e := range c {
			if equal(e, item) {
				return true
			}
		}
	case map[string]any:
		k, ok := item.(string)
		if !ok {
			return false
		}
		_, found := c[k]
		return found
	}
	return false
}
