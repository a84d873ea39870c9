package schedule

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/attune-run/attune"
)

func TestParse_Interval(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name   string
		params map[string]any
		want   time.Duration
	}{
		{name: "default unit is seconds", params: map[string]any{"interval": 30}, want: 30 * time.Second},
		{name: "null unit is seconds", params: map[string]any{"interval": 30, "unit": nil}, want: 30 * time.Second},
		{name: "seconds", params: map[string]any{"interval": 30, "unit": "seconds"}, want: 30 * time.Second},
		{name: "minutes", params: map[string]any{"interval": 5, "unit": "minutes"}, want: 5 * time.Minute},
		{name: "hours", params: map[string]any{"interval": 2, "unit": "hours"}, want: 2 * time.Hour},
		{name: "days", params: map[string]any{"interval": 7, "unit": "days"}, want: 7 * 24 * time.Hour},
		{name: "JSON number (float64)", params: jsonParams(t, `{"interval": 30, "unit": "minutes"}`), want: 30 * time.Minute},
		{name: "integral float64", params: map[string]any{"interval": 30.0}, want: 30 * time.Second},
		{name: "int64", params: map[string]any{"interval": int64(30)}, want: 30 * time.Second},
		{name: "uint64 (YAML)", params: map[string]any{"interval": uint64(30)}, want: 30 * time.Second},
		{name: "json.Number", params: map[string]any{"interval": json.Number("30")}, want: 30 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			s := mustParse(t, attune.TriggerInterval, tt.params)
			require.Equal(t, KindInterval, s.Kind())
			require.Equal(t, Interval{Every: tt.want}, s)
			from := at(t, "2026-03-01T10:00:00Z")
			require.Equal(t, from.Add(tt.want), s.Next(from))
		})
	}
}

func TestParse_IntervalErrors(t *testing.T) {
	t.Parallel()

	tests := []struct {
		params  map[string]any
		wantErr string
	}{
		{params: map[string]any{}, wantErr: `trigger_params.interval: required; the number of seconds between fires, e.g. 30`},
		{params: map[string]any{"interval": nil, "unit": "minutes"}, wantErr: `trigger_params.interval: required; the number of minutes between fires, e.g. 30`},
		{params: map[string]any{"interval": "30"}, wantErr: `trigger_params.interval: must be an integer > 0; got the string "30", write it without quotes`},
		{params: map[string]any{"interval": 1.5}, wantErr: `trigger_params.interval: must be an integer > 0; got 1.5`},
		{params: map[string]any{"interval": 0}, wantErr: `trigger_params.interval: must be an integer > 0; got 0`},
		{params: map[string]any{"interval": -3}, wantErr: `trigger_params.interval: must be an integer > 0; got -3`},
		{params: map[string]any{"interval": true}, wantErr: `trigger_params.interval: must be an integer > 0; got true`},
		{params: map[string]any{"interval": json.Number("1e3")}, wantErr: `trigger_params.interval: must be an integer > 0; got 1e3`},
		{params: map[string]any{"interval": 1e12, "unit": "days"}, wantErr: `trigger_params.interval: 1000000000000 days is too long`},
		{params: map[string]any{"interval": 5, "unit": "weeks"}, wantErr: `trigger_params.unit: must be one of seconds, minutes, hours, days; got "weeks"`},
		{params: map[string]any{"interval": 5, "unit": "Seconds"}, wantErr: `trigger_params.unit: must be one of seconds, minutes, hours, days; got "Seconds"`},
		{params: map[string]any{"interval": 5, "unit": 60}, wantErr: `trigger_params.unit: must be one of seconds, minutes, hours, days; got 60`},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.params), func(t *testing.T) {
			t.Parallel()

			s, err := Parse(attune.TriggerInterval, tt.params, testNow)
			require.Nil(t, s)
			require.ErrorIs(t, err, attune.ErrInvalid)
			require.EqualError(t, err, tt.wantErr)
		})
	}
}
