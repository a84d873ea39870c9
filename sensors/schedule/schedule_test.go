package schedule

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/attune-run/attune"
)

// at parses an RFC 3339 time for tests.
func at(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339Nano, s)
	require.NoError(t, err)
	return v
}

// mustParse parses a timer for tests, with now fixed at 2026-03-01T00:00:00Z.
func mustParse(t *testing.T, ref string, params map[string]any) Schedule {
	t.Helper()
	s, err := Parse(ref, params, testNow)
	require.NoError(t, err)
	return s
}

var testNow = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

func TestParse_UnknownTrigger(t *testing.T) {
	t.Parallel()

	_, err := Parse("core.webhook", map[string]any{}, testNow)
	require.ErrorIs(t, err, attune.ErrInvalid)
	require.EqualError(t, err, `invalid: trigger "core.webhook" is not a timer; timers are core.intervaltimer, core.crontimer and core.datetimetimer`)
}

func TestFirst(t *testing.T) {
	t.Parallel()

	enabled := at(t, "2026-03-01T10:00:07Z")
	tests := []struct {
		name   string
		ref    string
		params map[string]any
		want   string
	}{
		{name: "interval: one interval later", ref: attune.TriggerInterval, params: map[string]any{"interval": 30}, want: "2026-03-01T10:00:37Z"},
		{name: "cron: next match", ref: attune.TriggerCron, params: map[string]any{"expression": "0 */5 * * * *"}, want: "2026-03-01T10:05:00Z"},
		{name: "datetime: fire_at", ref: attune.TriggerDatetime, params: map[string]any{"fire_at": "2026-04-01T09:00:00+02:00"}, want: "2026-04-01T07:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			s := mustParse(t, tt.ref, tt.params)
			require.Equal(t, at(t, tt.want).UTC(), First(s, enabled).UTC())
		})
	}
}

func TestCatchUp(t *testing.T) {
	t.Parallel()

	interval5s := Interval{Every: 5 * time.Second}
	tests := []struct {
		name       string
		schedule   Schedule
		scheduled  string
		now        string
		wantNext   string // "" for the zero time
		wantMissed int
	}{
		{name: "interval: on time", schedule: interval5s, scheduled: "2026-03-01T10:00:00Z", now: "2026-03-01T10:00:00Z", wantNext: "2026-03-01T10:00:05Z"},
		{name: "interval: a little late, nothing missed", schedule: interval5s, scheduled: "2026-03-01T10:00:00Z", now: "2026-03-01T10:00:04.9Z", wantNext: "2026-03-01T10:00:05Z"},
		{name: "interval: late, drift-free", schedule: interval5s, scheduled: "2026-03-01T10:00:00Z", now: "2026-03-01T10:00:17.3Z", wantNext: "2026-03-01T10:00:20Z", wantMissed: 3},
		{name: "interval: now exactly on a missed time", schedule: interval5s, scheduled: "2026-03-01T10:00:00Z", now: "2026-03-01T10:00:15Z", wantNext: "2026-03-01T10:00:20Z", wantMissed: 3},
		{name: "interval: early (clock skew)", schedule: interval5s, scheduled: "2026-03-01T10:00:00Z", now: "2026-03-01T09:59:59Z", wantNext: "2026-03-01T10:00:05Z"},
		{name: "interval: 30-day outage of a 1s timer", schedule: Interval{Every: time.Second}, scheduled: "2026-03-01T00:00:00Z", now: "2026-03-31T00:00:00.5Z", wantNext: "2026-03-31T00:00:01Z", wantMissed: 30 * 86400},
		{name: "interval: days", schedule: Interval{Every: 24 * time.Hour}, scheduled: "2026-03-01T09:00:00Z", now: "2026-03-03T12:00:00Z", wantNext: "2026-03-04T09:00:00Z", wantMissed: 2},
		{name: "cron: on time", schedule: mustParse(t, attune.TriggerCron, map[string]any{"expression": "0 * * * * *"}), scheduled: "2026-03-01T10:00:00Z", now: "2026-03-01T10:00:00.2Z", wantNext: "2026-03-01T10:01:00Z"},
		{name: "cron: late", schedule: mustParse(t, attune.TriggerCron, map[string]any{"expression": "0 * * * * *"}), scheduled: "2026-03-01T10:00:00Z", now: "2026-03-01T10:03:30Z", wantNext: "2026-03-01T10:04:00Z", wantMissed: 3},
		{name: "cron: now exactly on a missed time", schedule: mustParse(t, attune.TriggerCron, map[string]any{"expression": "0 * * * * *"}), scheduled: "2026-03-01T10:00:00Z", now: "2026-03-01T10:03:00Z", wantNext: "2026-03-01T10:04:00Z", wantMissed: 3},
		{name: "cron: missed count is capped", schedule: mustParse(t, attune.TriggerCron, map[string]any{"expression": "* * * * * *"}), scheduled: "2026-03-01T00:00:00Z", now: "2026-03-31T00:00:00.5Z", wantNext: "2026-03-31T00:00:01Z", wantMissed: maxMissed},
		{name: "datetime: never again", schedule: Datetime{At: at(t, "2026-03-01T10:00:00Z")}, scheduled: "2026-03-01T10:00:00Z", now: "2026-03-01T10:05:00Z", wantNext: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			next, missed := CatchUp(tt.schedule, at(t, tt.scheduled), at(t, tt.now))
			if tt.wantNext == "" {
				require.True(t, next.IsZero(), "next = %s", next)
			} else {
				require.Equal(t, at(t, tt.wantNext).UTC(), next.UTC())
			}
			require.Equal(t, tt.wantMissed, missed)
		})
	}
}

func TestParse_UnknownKeys(t *testing.T) {
	t.Parallel()

	tests := []struct {
		ref     string
		params  map[string]any
		wantErr string
	}{
		{ref: attune.TriggerInterval, params: map[string]any{"interval": 5, "units": "seconds"}, wantErr: `trigger_params: unknown key "units"; known: interval, unit, timezone`},
		{ref: attune.TriggerCron, params: map[string]any{"expression": "* * * * *", "tz": "UTC", "delta": 3}, wantErr: `trigger_params: unknown keys "delta", "tz"; known: expression, timezone`},
		{ref: attune.TriggerDatetime, params: map[string]any{"fire_at": "2026-04-01T00:00:00Z", "date": "x"}, wantErr: `trigger_params: unknown key "date"; known: fire_at, timezone`},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.params), func(t *testing.T) {
			t.Parallel()

			_, err := Parse(tt.ref, tt.params, testNow)
			require.ErrorIs(t, err, attune.ErrInvalid)
			require.EqualError(t, err, tt.wantErr)
		})
	}
}

func TestParse_TimezoneAcceptedAndIgnoredByIntervalAndDatetime(t *testing.T) {
	t.Parallel()

	s := mustParse(t, attune.TriggerInterval, map[string]any{"interval": 5, "timezone": "Europe/Paris"})
	require.Equal(t, Interval{Every: 5 * time.Second}, s)

	s = mustParse(t, attune.TriggerDatetime, map[string]any{"fire_at": "2026-04-01T00:00:00Z", "timezone": "Not/AZone"})
	require.Equal(t, Datetime{At: at(t, "2026-04-01T00:00:00Z")}, s)
}

// jsonParams decodes params the way an API handler would.
func jsonParams(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(s), &m))
	return m
}
