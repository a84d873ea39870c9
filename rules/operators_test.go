package rules

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// missing marks a field absent from the payload in operator tests.
type missingField struct{}

var missing = missingField{}

func TestOperators(t *testing.T) {
	t.Parallel()

	tests := []struct {
		op    string
		value string // JSON; empty for none
		have  any    // the payload's "f", or missing
		want  bool
	}{
		// equals / eq: numbers compare numerically across Go types; strings never equal numbers.
		{op: "equals", value: `"error"`, have: "error", want: true},
		{op: "equals", value: `"error"`, have: "Error", want: false},
		{op: "eq", value: `3`, have: float64(3), want: true},
		{op: "eq", value: `3`, have: 3, want: true},
		{op: "eq", value: `3`, have: int64(3), want: true},
		{op: "eq", value: `3`, have: uint8(3), want: true},
		{op: "eq", value: `3`, have: json.Number("3"), want: true},
		{op: "eq", value: `3.0`, have: 3, want: true},
		{op: "eq", value: `3.5`, have: float32(3.5), want: true},
		{op: "eq", value: `3.5`, have: 3, want: false},
		{op: "eq", value: `9007199254740993`, have: int64(9007199254740993), want: true},
		{op: "eq", value: `9007199254740993`, have: int64(9007199254740992), want: false},
		{op: "eq", value: `1`, have: "1", want: false},
		{op: "eq", value: `"1"`, have: float64(1), want: false},
		{op: "eq", value: `true`, have: true, want: true},
		{op: "eq", value: `true`, have: 1, want: false},
		{op: "eq", value: `null`, have: nil, want: true},
		{op: "eq", value: `null`, have: missing, want: true}, // a missing field reads as null
		{op: "eq", value: `"x"`, have: missing, want: false},
		{op: "eq", value: `{"a":[1,"b"]}`, have: map[string]any{"a": []any{1, "b"}}, want: true},
		{op: "eq", value: `{"a":[1,"b"]}`, have: map[string]any{"a": []any{1, "c"}}, want: false},
		{op: "eq", value: `[1,2]`, have: []any{float64(1), float64(2)}, want: true},
		{op: "eq", value: `[1,2]`, have: []any{float64(2), float64(1)}, want: false},
		// nequals / neq / not_equals: a missing field reads as null, so it is not equal (StackStorm).
		{op: "nequals", value: `"error"`, have: "info", want: true},
		{op: "neq", value: `"error"`, have: "error", want: false},
		{op: "not_equals", value: `2`, have: 2.0, want: false},
		{op: "not_equals", value: `2`, have: "2", want: true},
		{op: "nequals", value: `"error"`, have: missing, want: true},
		// iequals / ieq
		{op: "iequals", value: `"ERROR"`, have: "error", want: true},
		{op: "ieq", value: `"error"`, have: "errors", want: false},
		{op: "ieq", value: `"1"`, have: 1, want: false},
		// lessthan / lt, greaterthan / gt: numbers with numbers, strings with strings.
		{op: "lessthan", value: `10`, have: 9.5, want: true},
		{op: "lt", value: `10`, have: int64(10), want: false},
		{op: "lt", value: `10`, have: "9", want: false},
		{op: "lt", value: `"b"`, have: "a", want: true},
		{op: "greaterthan", value: `10`, have: 11, want: true},
		{op: "gt", value: `10`, have: json.Number("10.5"), want: true},
		{op: "gt", value: `10`, have: 10.0, want: false},
		{op: "gt", value: `10`, have: nil, want: false},
		{op: "gt", value: `10`, have: missing, want: false},
		// contains / ncontains: substring, list element, map key.
		{op: "contains", value: `"disk"`, have: "disk full", want: true},
		{op: "contains", value: `"Disk"`, have: "disk full", want: false},
		{op: "contains", value: `2`, have: []any{float64(1), float64(2)}, want: true},
		{op: "contains", value: `"2"`, have: []any{float64(1), float64(2)}, want: false},
		{op: "contains", value: `"k"`, have: map[string]any{"k": nil}, want: true},
		{op: "contains", value: `"x"`, have: 12, want: false},
		{op: "ncontains", value: `"disk"`, have: "cpu", want: true},
		{op: "ncontains", value: `"disk"`, have: "disk", want: false},
		{op: "ncontains", value: `"disk"`, have: missing, want: false},
		{op: "ncontains", value: `"x"`, have: 12, want: false},                    // Python: TypeError, no match
		{op: "ncontains", value: `3`, have: "abc", want: false},                   // a number in a string: TypeError
		{op: "ncontains", value: `3`, have: []any{float64(1)}, want: true},        // list membership
		{op: "ncontains", value: `"k"`, have: map[string]any{"j": 1}, want: true}, // object keys
		// icontains / incontains
		{op: "icontains", value: `"DISK"`, have: "Disk full", want: true},
		{op: "icontains", value: `"net"`, have: "Disk full", want: false},
		{op: "incontains", value: `"NET"`, have: "Disk full", want: true},
		{op: "incontains", value: `"DISK"`, have: "Disk full", want: false},
		{op: "incontains", value: `"x"`, have: []any{"a"}, want: false}, // not a string: no match
		{op: "incontains", value: `"x"`, have: missing, want: false},
		// startswith / istartswith / endswith / iendswith
		{op: "startswith", value: `"web-"`, have: "web-01", want: true},
		{op: "startswith", value: `"WEB-"`, have: "web-01", want: false},
		{op: "startswith", value: `"web-"`, have: 1, want: false},
		{op: "istartswith", value: `"WEB-"`, have: "web-01", want: true},
		{op: "endswith", value: `".log"`, have: "app.log", want: true},
		{op: "endswith", value: `".LOG"`, have: "app.log", want: false},
		{op: "iendswith", value: `".LOG"`, have: "app.log", want: true},
		// regex / iregex: RE2, unanchored like Python's re.search.
		{op: "regex", value: `"^web-\\d+$"`, have: "web-01", want: true},
		{op: "regex", value: `"\\d+"`, have: "disk 93%", want: true},
		{op: "regex", value: `"^WEB"`, have: "web-01", want: false},
		{op: "regex", value: `"1"`, have: 1, want: false},
		{op: "iregex", value: `"^WEB"`, have: "web-01", want: true},
		// inside / in, ninside / nin: contains reversed.
		{op: "inside", value: `["error","critical"]`, have: "critical", want: true},
		{op: "in", value: `["error","critical"]`, have: "info", want: false},
		{op: "in", value: `[1,2,3]`, have: int64(2), want: true},
		{op: "in", value: `"error critical"`, have: "critical", want: true},
		{op: "in", value: `{"a":1}`, have: "a", want: true},
		{op: "in", value: `["x"]`, have: missing, want: false},
		{op: "ninside", value: `["error","critical"]`, have: "info", want: true},
		{op: "nin", value: `["error","critical"]`, have: "error", want: false},
		{op: "nin", value: `["error"]`, have: missing, want: true},       // null is not in the list
		{op: "nin", value: `"error critical"`, have: "info", want: true}, // substring
		{op: "nin", value: `"error critical"`, have: 1, want: false},     // a number in a string: TypeError
		{op: "nin", value: `{"a":1}`, have: "b", want: true},             // object keys
		{op: "nin", value: `{"a":1}`, have: []any{"a"}, want: false},     // unhashable: TypeError
		// matchwildcard: Python's fnmatch, whole string, case-sensitive, * crosses "/".
		{op: "matchwildcard", value: `"web-*"`, have: "web-01", want: true},
		{op: "matchwildcard", value: `"web-*"`, have: "db-web-01", want: false},
		{op: "matchwildcard", value: `"WEB-*"`, have: "web-01", want: false},
		{op: "matchwildcard", value: `"web-??"`, have: "web-01", want: true},
		{op: "matchwildcard", value: `"web-??"`, have: "web-001", want: false},
		{op: "matchwildcard", value: `"/var/*.log"`, have: "/var/log/app.log", want: true},
		{op: "matchwildcard", value: `"web-[0-9]*"`, have: "web-7a", want: true},
		{op: "matchwildcard", value: `"web-[!0-9]*"`, have: "web-7a", want: false},
		{op: "matchwildcard", value: `"a[*]b"`, have: "a*b", want: true},
		{op: "matchwildcard", value: `"a[*]b"`, have: "axb", want: false},
		{op: "matchwildcard", value: `"a.b"`, have: "axb", want: false}, // "." is itself
		{op: "matchwildcard", value: `"(x)+"`, have: "(x)+", want: true},
		{op: "matchwildcard", value: `"a["`, have: "a[", want: true}, // an unclosed "[" is itself
		{op: "matchwildcard", value: `"*"`, have: "line1\nline2", want: true},
		{op: "matchwildcard", value: `"*"`, have: 1, want: false},
		{op: "matchwildcard", value: `"*"`, have: missing, want: false},
		// matchregex (deprecated in StackStorm): anchored at the start, "." matches newlines.
		{op: "matchregex", value: `"web"`, have: "web-01", want: true},
		{op: "matchregex", value: `"01"`, have: "web-01", want: false},
		{op: "matchregex", value: `"a.b"`, have: "a\nb", want: true},
		{op: "matchregex", value: `"a|web"`, have: "web", want: true}, // the alternation stays inside the anchor
		// timediff_lt / td_lt, timediff_gt / td_gt: the field's age in seconds at system.now
		// (2026-03-01T09:00:05Z in these tests); a time without a zone is UTC.
		{op: "timediff_lt", value: `60`, have: "2026-03-01T08:59:30Z", want: true},
		{op: "timediff_lt", value: `60`, have: "2026-03-01T08:58:00Z", want: false},
		{op: "td_lt", value: `10.5`, have: "2026-03-01T09:00:00.000+00:00", want: true},
		{op: "td_lt", value: `60`, have: "2026-03-01T10:59:30+02:00", want: true},
		{op: "td_lt", value: `60`, have: "2026-03-01 08:59:30", want: true},
		{op: "timediff_gt", value: `60`, have: "2026-03-01T08:58:00Z", want: true},
		{op: "td_gt", value: `60`, have: "2026-03-01T08:59:30", want: false},
		{op: "td_gt", value: `0`, have: "2026-03-02", want: false}, // in the future: a negative age
		{op: "td_gt", value: `60`, have: "yesterday", want: false},
		{op: "td_gt", value: `60`, have: 1700000000, want: false},
		{op: "td_lt", value: `60`, have: missing, want: false},
		// exists / nexists: null counts as not existing.
		{op: "exists", have: "", want: true},
		{op: "exists", have: false, want: true},
		{op: "exists", have: nil, want: false},
		{op: "exists", have: missing, want: false},
		{op: "exists", value: `"ignored"`, have: 1, want: true},
		{op: "nexists", have: missing, want: true},
		{op: "nexists", have: nil, want: true},
		{op: "nexists", have: 0, want: false},
		// Operator names are case-insensitive, as in StackStorm.
		{op: "Equals", value: `"error"`, have: "error", want: true},
		{op: "MatchWildcard", value: `"e*"`, have: "error", want: true},
		{op: "TD_LT", value: `60`, have: "2026-03-01T09:00:00Z", want: true},
	}
	for _, tt := range tests {
		name := fmt.Sprintf("%s %s %#v", tt.op, tt.value, tt.have)
		t.Run(name, func(t *testing.T) {
			t.Parallel()

			criterion := map[string]any{"field": "f", "operator": tt.op}
			if tt.value != "" {
				criterion["value"] = json.RawMessage(tt.value)
			}
			raw, err := json.Marshal([]any{criterion})
			require.NoError(t, err)
			c, err := CompileCriteria(raw)
			require.NoError(t, err)

			payload := map[string]any{}
			if tt.have != missing {
				payload["f"] = tt.have
			}
			out, err := c.Match(testEnv(payload))
			require.NoError(t, err)
			require.Equal(t, tt.want, out.Matched, "reason: %s", out.Reason)
			if !out.Matched {
				require.NotEmpty(t, out.Reason)
			}
		})
	}
}

func TestOperatorTable_EveryNameIsUnique(t *testing.T) {
	t.Parallel()

	seen := map[string]bool{}
	for _, op := range operatorTable {
		for _, name := range op.names {
			require.False(t, seen[name], "operator name %q listed twice", name)
			seen[name] = true
		}
	}
	require.Len(t, operators, len(seen))
}
