package schedule

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/attune-run/attune"
)

func TestParse_Cron(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name     string
		params   map[string]any
		from     string
		wantNext []string // successive fire times
	}{
		{name: "6 fields with seconds", params: map[string]any{"expression": "*/15 * * * * *"}, from: "2026-03-01T10:00:07Z", wantNext: []string{"2026-03-01T10:00:15Z", "2026-03-01T10:00:30Z", "2026-03-01T10:00:45Z"}},
		{name: "strictly after a matching time", params: map[string]any{"expression": "*/15 * * * * *"}, from: "2026-03-01T10:00:15Z", wantNext: []string{"2026-03-01T10:00:30Z"}},
		{name: "sub-second input", params: map[string]any{"expression": "*/15 * * * * *"}, from: "2026-03-01T10:00:14.999Z", wantNext: []string{"2026-03-01T10:00:15Z"}},
		{name: "5 fields: seconds are 0", params: map[string]any{"expression": "*/5 * * * *"}, from: "2026-03-01T10:03:00Z", wantNext: []string{"2026-03-01T10:05:00Z", "2026-03-01T10:10:00Z"}},
		{name: "weekdays by name", params: map[string]any{"expression": "0 30 8 * * mon-fri"}, from: "2026-03-06T09:00:00Z", wantNext: []string{"2026-03-09T08:30:00Z"}},
		{name: "@hourly", params: map[string]any{"expression": "@hourly"}, from: "2026-03-01T10:20:00Z", wantNext: []string{"2026-03-01T11:00:00Z"}},
		{name: "@every", params: map[string]any{"expression": "@every 90s"}, from: "2026-03-01T10:00:00Z", wantNext: []string{"2026-03-01T10:01:30Z", "2026-03-01T10:03:00Z"}},
		{name: "surrounding space", params: map[string]any{"expression": "  0 0 * * * *  "}, from: "2026-03-01T10:20:00Z", wantNext: []string{"2026-03-01T11:00:00Z"}},
		{name: "explicit UTC", params: map[string]any{"expression": "0 0 9 * * *", "timezone": "UTC"}, from: "2026-03-01T10:00:00Z", wantNext: []string{"2026-03-02T09:00:00Z"}},
		{name: "empty timezone is UTC", params: map[string]any{"expression": "0 0 9 * * *", "timezone": ""}, from: "2026-03-01T10:00:00Z", wantNext: []string{"2026-03-02T09:00:00Z"}},
		{name: "09:00 in Tokyo", params: map[string]any{"expression": "0 0 9 * * *", "timezone": "Asia/Tokyo"}, from: "2026-03-01T10:00:00Z", wantNext: []string{"2026-03-02T00:00:00Z"}},
		{
			name:   "09:00 in Paris across the spring DST change (2026-03-29)",
			params: map[string]any{"expression": "0 0 9 * * *", "timezone": "Europe/Paris"},
			from:   "2026-03-27T12:00:00Z",
			wantNext: []string{
				"2026-03-28T08:00:00Z", // 09:00 CET (+01:00)
				"2026-03-29T07:00:00Z", // 09:00 CEST (+02:00)
				"2026-03-30T07:00:00Z",
			},
		},
		{
			name:     "09:00 in Paris across the autumn DST change (2026-10-25)",
			params:   map[string]any{"expression": "0 0 9 * * *", "timezone": "Europe/Paris"},
			from:     "2026-10-24T00:00:00Z",
			wantNext: []string{"2026-10-24T07:00:00Z", "2026-10-25T08:00:00Z"},
		},
		{
			name:     "Paris: a wall time that does not exist is skipped that day",
			params:   map[string]any{"expression": "0 30 2 * * *", "timezone": "Europe/Paris"},
			from:     "2026-03-28T12:00:00Z",
			wantNext: []string{"2026-03-30T00:30:00Z"},
		},
		{
			name:     "Paris: a wall time that happens twice fires twice",
			params:   map[string]any{"expression": "0 30 2 * * *", "timezone": "Europe/Paris"},
			from:     "2026-10-24T12:00:00Z",
			wantNext: []string{"2026-10-25T00:30:00Z", "2026-10-25T01:30:00Z", "2026-10-26T01:30:00Z"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			s := mustParse(t, attune.TriggerCron, tt.params)
			require.Equal(t, KindCron, s.Kind())
			next := at(t, tt.from)
			for i, want := range tt.wantNext {
				next = s.Next(next)
				require.Equal(t, at(t, want).UTC(), next.UTC(), "fire %d", i)
			}
		})
	}
}

func TestCron_NextKeepsTheCallersLocation(t *testing.T) {
	t.Parallel()

	tokyo, err := time.LoadLocation("Asia/Tokyo")
	require.NoError(t, err)
	s := mustParse(t, attune.TriggerCron, map[string]any{"expression": "0 0 9 * * *", "timezone": "Europe/Paris"})

	next := s.Next(time.Date(2026, 3, 2, 0, 0, 0, 0, tokyo))

	require.Equal(t, tokyo, next.Location())
	require.Equal(t, at(t, "2026-03-02T08:00:00Z"), next.UTC())
}

func TestParse_CronErrors(t *testing.T) {
	t.Parallel()

	tests := []struct {
		params  map[string]any
		wantErr string
	}{
		{params: map[string]any{}, wantErr: `trigger_params.expression: required; a cron expression such as "0 */5 * * * *" (sec min hour dom mon dow)`},
		{params: map[string]any{"expression": 5}, wantErr: `trigger_params.expression: must be a string; got 5`},
		{params: map[string]any{"expression": ""}, wantErr: `trigger_params.expression: "": empty spec string; write 6 fields`},
		{params: map[string]any{"expression": "* * *"}, wantErr: `trigger_params.expression: "* * *": expected 5 to 6 fields, found 3`},
		{params: map[string]any{"expression": "0 0 0 * * * 2026"}, wantErr: `trigger_params.expression: "0 0 0 * * * 2026": expected 5 to 6 fields, found 7`},
		{params: map[string]any{"expression": "61 * * * * *"}, wantErr: `trigger_params.expression: "61 * * * * *": end of range (61) above maximum (59)`},
		{params: map[string]any{"expression": "*/0 * * * * *"}, wantErr: `step of range should be a positive number`},
		{params: map[string]any{"expression": "@fortnightly"}, wantErr: `unrecognized descriptor: @fortnightly`},
		{params: map[string]any{"expression": "@every 0s"}, wantErr: `trigger_params.expression: "@every 0s": @every needs a duration of at least 1s`},
		{params: map[string]any{"expression": "@every 500ms"}, wantErr: `@every needs a duration of at least 1s`},
		{params: map[string]any{"expression": "0 0 0 30 2 *"}, wantErr: `trigger_params.expression: "0 0 0 30 2 *" never fires`},
		{params: map[string]any{"expression": "CRON_TZ=Europe/Paris 0 0 9 * * *"}, wantErr: `set the time zone in trigger_params.timezone, not in the expression`},
		{params: map[string]any{"expression": "TZ=UTC"}, wantErr: `set the time zone in trigger_params.timezone`},
		{params: map[string]any{"expression": "0 * * * * *", "timezone": "Mars/Olympus"}, wantErr: `trigger_params.timezone: unknown time zone "Mars/Olympus"; use an IANA name such as "Europe/Paris" or "UTC"`},
		{params: map[string]any{"expression": "0 * * * * *", "timezone": "Local"}, wantErr: `trigger_params.timezone: "Local" depends on the server`},
		{params: map[string]any{"expression": "0 * * * * *", "timezone": 2}, wantErr: `trigger_params.timezone: must be an IANA time zone name such as "Europe/Paris"; got 2`},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.params), func(t *testing.T) {
			t.Parallel()

			s, err := Parse(attune.TriggerCron, tt.params, testNow)
			require.Nil(t, s)
			require.ErrorIs(t, err, attune.ErrInvalid)
			require.ErrorContains(t, err, tt.wantErr)
		})
	}
}
