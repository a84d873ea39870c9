package rules

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

// A false expression says what it saw: the value of every constant path it reads, outermost
// accesses only, in order, at most five.
func TestCriteria_ExpressionReasonShowsWhatItSaw(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name       string
		expression string
		wantMatch  bool
		wantReason string
	}{
		{
			name:       "payload fields",
			expression: "event.payload.level == 'info' and event.payload.count > 3",
			wantReason: `expression "event.payload.level == 'info' and event.payload.count > 3" is false; saw event.payload.level = "error", event.payload.count = 5`,
		},
		{
			name:       "a missing field reads as nil",
			expression: "event.payload.user == 'ada'",
			wantReason: `expression "event.payload.user == 'ada'" is false; saw event.payload.user = (missing)`,
		},
		{
			name:       "below a missing field reads as nil too",
			expression: "event.payload.user.name == 'ada'",
			wantReason: `expression "event.payload.user.name == 'ada'" is false; saw event.payload.user.name = (missing)`,
		},
		{
			name:       "brackets, indexes and other roots",
			expression: "event.payload.headers['X-Request-Id'] == 'x' || event.payload.host.tags[1] == 'us' || pack.config.channel == ''",
			wantReason: `expression "event.payload.headers['X-Request-Id'] == 'x' || event.payload.host.tags[1] == 'us' || pack.config.channel == ''" is false; saw event.payload.headers["X-Request-Id"] = "abc", event.payload.host.tags[1] = "eu", pack.config.channel = "#ops"`,
		},
		{
			name:       "comparing a missing field does not hold",
			expression: "event.payload.level == 'error' and event.payload.nope > 3",
			wantReason: `expression "event.payload.level == 'error' and event.payload.nope > 3" does not hold: line 1, column 55: invalid operation: <nil> > int; saw event.payload.level = "error", event.payload.nope = (missing)`,
		},
		{
			name:       "comparing a null field does not hold",
			expression: "event.payload.host.ip > 3",
			wantReason: `expression "event.payload.host.ip > 3" does not hold: line 1, column 23: invalid operation: <nil> > int; saw event.payload.host.ip = (missing)`,
		},
		{
			name:       "computed keys are not shown",
			expression: "event.payload[lower('LEVEL')] == 'info'",
			wantReason: `expression "event.payload[lower('LEVEL')] == 'info'" is false`,
		},
		{
			name:       "in, and the expr builtins",
			expression: "event.payload.level in ['warning', 'critical'] or len(event.payload.host.tags) > 2",
			wantReason: `expression "event.payload.level in ['warning', 'critical'] or len(event.payload.host.tags) > 2" is false; saw event.payload.level = "error", event.payload.host.tags = ["prod","eu"]`,
		},
		{
			name:       "time arithmetic with the injected clock",
			expression: "system.now.Year() == 2026 and event.payload.level == 'error'",
			wantMatch:  true,
		},
		{
			name:       "at most five paths",
			expression: "event.payload.a == 1 or event.payload.b == 1 or event.payload.c == 1 or event.payload.d == 1 or event.payload.e == 1 or event.payload.f == 1",
			wantReason: `expression "event.payload.a == 1 or event.payload.b == 1 or event.payload.c == 1 or event.payload.d == 1 or event.payload.e == 1 or …" is false; saw event.payload.a = (missing), event.payload.b = (missing), event.payload.c = (missing), event.payload.d = (missing), event.payload.e = (missing), …`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			raw, err := json.Marshal(map[string]string{"expression": tt.expression})
			require.NoError(t, err)
			c, err := CompileCriteria(raw)
			require.NoError(t, err)
			out, err := c.Match(testEnv(alertPayload))
			require.NoError(t, err)
			require.Equal(t, Outcome{Matched: tt.wantMatch, Reason: tt.wantReason}, out)
		})
	}
}
