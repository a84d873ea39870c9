package schedule

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/attune-run/attune"
)

func TestParse_Datetime(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name   string
		fireAt any
		want   string
	}{
		{name: "UTC", fireAt: "2026-04-01T09:00:00Z", want: "2026-04-01T09:00:00Z"},
		{name: "offset", fireAt: "2026-04-01T11:00:00+02:00", want: "2026-04-01T09:00:00Z"},
		{name: "fractional seconds", fireAt: "2026-04-01T09:00:00.25Z", want: "2026-04-01T09:00:00.25Z"},
		{name: "one second after now", fireAt: "2026-03-01T00:00:01Z", want: "2026-03-01T00:00:01Z"},
		{name: "time.Time", fireAt: time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC), want: "2026-04-01T09:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			s := mustParse(t, attune.TriggerDatetime, map[string]any{"fire_at": tt.fireAt})
			require.Equal(t, KindDatetime, s.Kind())
			want := at(t, tt.want)
			require.True(t, want.Equal(s.(Datetime).At))
		})
	}
}

func TestDatetime_Next(t *testing.T) {
	t.Parallel()

	fireAt := at(t, "2026-04-01T09:00:00Z")
	s := Datetime{At: fireAt}

	require.Equal(t, fireAt, s.Next(fireAt.Add(-time.Nanosecond)))
	require.True(t, s.Next(fireAt).IsZero(), "not strictly after")
	require.True(t, s.Next(fireAt.Add(time.Hour)).IsZero())
}

func TestParse_DatetimeErrors(t *testing.T) {
	t.Parallel()

	tests := []struct {
		fireAt   any
		wantErr  string
		wantPast bool
	}{
		{fireAt: nil, wantErr: `trigger_params.fire_at: required; an RFC 3339 time such as "2026-05-01T09:00:00Z"`},
		{fireAt: "2026-05-01 09:00:00", wantErr: `trigger_params.fire_at: "2026-05-01 09:00:00" is not an RFC 3339 time such as "2026-05-01T09:00:00Z" or "2026-05-01T11:00:00+02:00"`},
		{fireAt: "2026-05-01T09:00:00", wantErr: `trigger_params.fire_at: "2026-05-01T09:00:00" is not an RFC 3339 time`},
		{fireAt: 1767225600, wantErr: `trigger_params.fire_at: must be an RFC 3339 string such as "2026-05-01T09:00:00Z"; got 1767225600`},
		{fireAt: "2020-01-01T00:00:00Z", wantErr: `trigger_params.fire_at: 2020-01-01T00:00:00Z is in the past; a datetime timer fires once, at a future time`, wantPast: true},
		{fireAt: "2026-03-01T00:00:00Z", wantErr: `trigger_params.fire_at: 2026-03-01T00:00:00Z is in the past; a datetime timer fires once, at a future time`, wantPast: true},
		{fireAt: "2026-03-01T01:00:00+02:00", wantErr: `trigger_params.fire_at: 2026-03-01T01:00:00+02:00 is in the past`, wantPast: true},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.fireAt), func(t *testing.T) {
			t.Parallel()

			params := map[string]any{}
			if tt.fireAt != nil {
				params["fire_at"] = tt.fireAt
			}
			s, err := Parse(attune.TriggerDatetime, params, testNow)
			require.Nil(t, s)
			require.ErrorIs(t, err, attune.ErrInvalid)
			require.ErrorContains(t, err, tt.wantErr)
			require.Equal(t, tt.wantPast, errors.Is(err, ErrPast))
		})
	}
}
