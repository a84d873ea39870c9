package rules

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/attune-run/attune"
)

func TestCompileCriteria_MatchEverything(t *testing.T) {
	t.Parallel()

	for _, raw := range []string{"", "null", " null ", "{}", "[]", " [ ] "} {
		t.Run(raw, func(t *testing.T) {
			t.Parallel()

			c, err := CompileCriteria(json.RawMessage(raw))
			require.NoError(t, err)
			out, err := c.Match(testEnv(nil))
			require.NoError(t, err)
			require.Equal(t, Outcome{Matched: true}, out)
		})
	}
}

func TestCriteria_NilMatchesEverything(t *testing.T) {
	t.Parallel()

	var c *Criteria
	out, err := c.Match(testEnv(nil))
	require.NoError(t, err)
	require.True(t, out.Matched)
}

// alertPayload is the payload the form tests match against.
var alertPayload = map[string]any{
	"level": "error",
	"count": float64(5),
	"host":  map[string]any{"name": "web-01", "tags": []any{"prod", "eu"}},
	"headers": map[string]any{
		"X-Request-Id": "abc",
	},
}

func TestCriteria_Forms(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name       string
		criteria   string
		wantMatch  bool
		wantReason string
	}{
		{
			name:      "list: all pass",
			criteria:  `[{"field":"level","operator":"equals","value":"error"},{"field":"count","operator":"gt","value":3}]`,
			wantMatch: true,
		},
		{
			name:       "list: first failing criterion is reported",
			criteria:   `[{"field":"count","operator":"gt","value":3},{"field":"level","operator":"equals","value":"info"},{"field":"nope","operator":"exists"}]`,
			wantReason: `level: equals "info": saw "error"`,
		},
		{
			name:       "list: missing field",
			criteria:   `[{"field":"host.ip","operator":"equals","value":"10.0.0.1"}]`,
			wantReason: `host.ip: equals "10.0.0.1": missing`,
		},
		{
			name:      "list: nested path and index",
			criteria:  `[{"field":"host.tags.1","operator":"eq","value":"eu"},{"field":"payload.host.name","operator":"startswith","value":"web-"}]`,
			wantMatch: true,
		},
		{
			name:       "list: reason shows the operator as written and the seen value as JSON",
			criteria:   `[{"field":"host","operator":"eq","value":"x"}]`,
			wantReason: `host: eq "x": saw {"name":"web-01","tags":["prod","eu"]}`,
		},
		{
			name:       "list: reason of a value-less operator",
			criteria:   `[{"field":"level","operator":"nexists"}]`,
			wantReason: `level: nexists: saw "error"`,
		},
		{
			name:      "map: StackStorm form with trigger. prefix",
			criteria:  `{"trigger.level":{"type":"equals","pattern":"error"},"trigger.count":{"type":"greaterthan","pattern":3}}`,
			wantMatch: true,
		},
		{
			name:      "map: bracketed key with special characters",
			criteria:  `{"trigger.headers['X-Request-Id']":{"type":"eq","pattern":"abc"}}`,
			wantMatch: true,
		},
		{
			name:       "map: first failing criterion in document order",
			criteria:   `{"trigger.level":{"type":"eq","pattern":"error"},"trigger.count":{"type":"lt","pattern":5},"trigger.a":{"type":"exists"}}`,
			wantReason: `trigger.count: lt 5: saw 5`,
		},
		{
			name:       "map: missing field",
			criteria:   `{"trigger.user":{"type":"iequals","pattern":"ADA"}}`,
			wantReason: `trigger.user: iequals "ADA": missing`,
		},
		{
			name:      "map: exists without pattern",
			criteria:  `{"trigger.level":{"type":"exists"}}`,
			wantMatch: true,
		},
		{
			name:      "map: a payload field called expression",
			criteria:  `{"expression":{"type":"nexists"}}`,
			wantMatch: true,
		},
		{
			name:      "expression: true",
			criteria:  `{"expression":"event.payload.level == 'error' and event.payload.count > 3"}`,
			wantMatch: true,
		},
		{
			name:      "expression: braces stripped",
			criteria:  `{"expression":"  {{ event.payload.level == 'error' }} "}`,
			wantMatch: true,
		},
		{
			name:       "expression: false",
			criteria:   `{"expression":"{{ event.payload.count > 10 }}"}`,
			wantReason: `expression " event.payload.count > 10 " is false; saw event.payload.count = 5`,
		},
		{
			name:      "expression: sees the rest of the env",
			criteria:  `{"expression":"event.trigger_ref == 'ops.alert' && rule.ref == 'ops.notify' && pack.config.channel == '#ops' && 'eu' in event.payload.host.tags"}`,
			wantMatch: true,
		},
		{
			name:      "expression: missing key is nil",
			criteria:  `{"expression":"event.payload.nope == nil"}`,
			wantMatch: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			c, err := CompileCriteria(json.RawMessage(tt.criteria))
			require.NoError(t, err)
			out, err := c.Match(testEnv(alertPayload))
			require.NoError(t, err)
			require.Equal(t, Outcome{Matched: tt.wantMatch, Reason: tt.wantReason}, out)
		})
	}
}

func TestCompileCriteria_Errors(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name     string
		criteria string
		wantErr  string
	}{
		{
			name:     "not JSON",
			criteria: `[{"field":`,
			wantErr:  "criteria: unexpected end of JSON input",
		},
		{
			name:     "wrong shape",
			criteria: `"level == 'error'"`,
			wantErr:  `criteria: must be a list of conditions, an object of conditions or {"expression": …}; got "\"level == 'error'\""`,
		},
		{
			name:     "list: unknown operator lists the known ones",
			criteria: `[{"field":"a","operator":"eq","value":1},{"field":"level","operator":"equal","value":"error"}]`,
			wantErr:  `criteria[1].operator: unknown operator "equal"; known: contains, endswith, eq, equals, exists, greaterthan, gt, icontains, iendswith, ieq, iequals, in, incontains, inside, iregex, istartswith, lessthan, lt, matchregex, matchwildcard, ncontains, neq, nequals, nexists, nin, ninside, not_equals, regex, search, startswith, td_gt, td_lt, timediff_gt, timediff_lt`,
		},
		{
			name:     "list: item not an object",
			criteria: `["level"]`,
			wantErr:  `criteria[0]: must be an object with keys field, operator, value, condition; got "\"level\""`,
		},
		{
			name:     "list: unknown key",
			criteria: `[{"field":"a","operator":"eq","valeu":1}]`,
			wantErr:  `criteria[0]: unknown key "valeu"; known: field, operator, value, condition`,
		},
		{
			name:     "list: field required",
			criteria: `[{"operator":"eq","value":1}]`,
			wantErr:  `criteria[0].field: required`,
		},
		{
			name:     "list: field must be a string",
			criteria: `[{"field":1,"operator":"eq","value":1}]`,
			wantErr:  `criteria[0].field: must be a string; got "1"`,
		},
		{
			name:     "list: bad field path",
			criteria: `[{"field":"a..b","operator":"eq","value":1}]`,
			wantErr:  `criteria[0].field: "a..b": has an empty segment`,
		},
		{
			name:     "list: value required",
			criteria: `[{"field":"a","operator":"equals"}]`,
			wantErr:  `criteria[0].value: required by operator "equals"`,
		},
		{
			name:     "list: bad regex",
			criteria: `[{"field":"a","operator":"regex","value":"(unclosed"}]`,
			wantErr:  "criteria[0].value: invalid regular expression (Go RE2 syntax): error parsing regexp: missing closing ): `(unclosed`",
		},
		{
			name:     "list: string operator given a number",
			criteria: `[{"field":"a","operator":"startswith","value":1}]`,
			wantErr:  `criteria[0].value: must be a string; got 1`,
		},
		{
			name:     "list: ordering operator given a list",
			criteria: `[{"field":"a","operator":"lt","value":[1]}]`,
			wantErr:  `criteria[0].value: must be a number or a string; got [1]`,
		},
		{
			name:     "list: inside given a number",
			criteria: `[{"field":"a","operator":"in","value":1}]`,
			wantErr:  `criteria[0].value: must be a list, a string or an object; got 1`,
		},
		{
			name:     "list: wildcard given a number",
			criteria: `[{"field":"a","operator":"matchwildcard","value":1}]`,
			wantErr:  `criteria[0].value: must be a wildcard pattern string such as "web-*"; got 1`,
		},
		{
			name:     "list: bad wildcard range",
			criteria: `[{"field":"a","operator":"matchwildcard","value":"[z-a]"}]`,
			wantErr:  `criteria[0].value: invalid wildcard pattern "[z-a]"`,
		},
		{
			name:     "map: timediff given a string",
			criteria: `{"trigger.at":{"type":"timediff_lt","pattern":"60"}}`,
			wantErr:  `criteria["trigger.at"].pattern: must be a number of seconds; got "60"`,
		},
		{
			name:     "map: regex with a Python-only construct",
			criteria: `{"trigger.a":{"type":"regex","pattern":"(?<=x)y"}}`,
			wantErr:  `criteria["trigger.a"].pattern: invalid regular expression (Go RE2 syntax)`,
		},
		{
			name:     "map: unknown operator",
			criteria: `{"trigger.level":{"type":"match_wildcard","pattern":"e*"}}`,
			wantErr:  `criteria["trigger.level"].type: unknown operator "match_wildcard"; known: contains,`,
		},
		{
			name:     "map: type required",
			criteria: `{"trigger.level":{"pattern":"error"}}`,
			wantErr:  `criteria["trigger.level"].type: required`,
		},
		{
			name:     "map: unknown key",
			criteria: `{"trigger.level":{"type":"eq","patern":"error"}}`,
			wantErr:  `criteria["trigger.level"]: unknown key "patern"; known: type, pattern, condition`,
		},
		{
			name:     "map: condition on an operator other than search",
			criteria: `{"trigger.level":{"type":"eq","pattern":"error","condition":"any"}}`,
			wantErr:  `criteria["trigger.level"].condition: only the search operator takes a condition; remove it`,
		},
		{
			name:     "map: duplicate key",
			criteria: `{"trigger.a":{"type":"exists"},"trigger.a":{"type":"nexists"}}`,
			wantErr:  `criteria["trigger.a"]: appears twice`,
		},
		{
			name:     "map: trailing data",
			criteria: `{"trigger.a":{"type":"exists"}} {}`,
			wantErr:  `criteria: unexpected data after the closing brace`,
		},
		{
			name:     "expression: syntax error names the position",
			criteria: `{"expression":"event.payload.level = 'error'"}`,
			wantErr:  `criteria.expression "event.payload.level = 'error'": line 1, column 21: unexpected token Operator("=")`,
		},
		{
			name:     "expression: position counts the stripped braces",
			criteria: `{"expression":"{{ event.payload.level = 'error' }}"}`,
			wantErr:  `line 1, column 24: unexpected token Operator("=")`,
		},
		{
			name:     "expression: unknown root",
			criteria: `{"expression":"evnt.payload.level == 'error'"}`,
			wantErr:  `line 1, column 1: unknown name evnt`,
		},
		{
			name:     "expression: known non-bool type",
			criteria: `{"expression":"1 + 2"}`,
			wantErr:  `criteria.expression "1 + 2": yields int, want a bool (true or false)`,
		},
		{
			name:     "expression: empty",
			criteria: `{"expression":"{{ }}"}`,
			wantErr:  `criteria.expression "{{ }}": empty expression`,
		},
		{
			name:     "expression: two templates",
			criteria: `{"expression":"{{ a }} and {{ b }}"}`,
			wantErr:  `write one expression, optionally inside a single "{{ }}"`,
		},
		{
			name:     "expression: other keys",
			criteria: `{"expression":"true","trigger.a":{"type":"exists"}}`,
			wantErr:  `criteria: an expression takes no other keys; got expression, trigger.a`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			c, err := CompileCriteria(json.RawMessage(tt.criteria))
			require.Nil(t, c)
			require.ErrorIs(t, err, attune.ErrInvalid)
			require.ErrorContains(t, err, tt.wantErr)
		})
	}
}

func TestCriteria_ExpressionEvaluationErrors(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name       string
		expression string
		wantErr    string
	}{
		{
			name:       "comparing a string with a number",
			expression: "event.payload.level > 3",
			wantErr:    `criteria.expression "event.payload.level > 3": line 1, column 21: invalid operation: string > int; saw event.payload.level = "error"`,
		},
		{
			name:       "fetching from a number",
			expression: "event.payload.count.x == 1",
			wantErr:    `event.payload.count.x: cannot fetch x from float64`,
		},
		{
			name:       "not a bool",
			expression: "event.payload.level",
			wantErr:    `criteria.expression "event.payload.level": got "error" (string), want true or false`,
		},
		{
			name:       "nil is not a bool",
			expression: "event.payload.nope",
			wantErr:    `got null (<nil>), want true or false`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			raw, err := json.Marshal(map[string]string{"expression": tt.expression})
			require.NoError(t, err)
			c, err := CompileCriteria(raw)
			require.NoError(t, err)
			_, err = c.Match(testEnv(alertPayload))
			require.ErrorContains(t, err, tt.wantErr)
		})
	}
}

func TestCriteria_ReasonIsShortened(t *testing.T) {
	t.Parallel()

	long := make([]byte, 500)
	for i := range long {
		long[i] = 'x'
	}
	c, err := CompileCriteria(json.RawMessage(`[{"field":"msg","operator":"eq","value":"y"}]`))
	require.NoError(t, err)

	out, err := c.Match(testEnv(map[string]any{"msg": string(long)}))
	require.NoError(t, err)
	require.False(t, out.Matched)
	require.Less(t, len(out.Reason), 200)
	require.Contains(t, out.Reason, "…")
}
