package schedule

import (
	"time"
)

// Datetime is a core.datetimetimer schedule: a single fire at At.
type Datetime struct {
	At time.Time
}

// Next returns At when it is after t, else the zero time.
func (d Datetime) Next(t time.Time) time.Time {
	if d.At.After(t) {
		return d.At
	}
	return time.Time{}
}

// Kind returns KindDatetime.
func (Datetime) Kind() string { return KindDatetime }

// parseDatetime reads trigger_params {fire_at, timezone} of core.datetimetimer. fire_at is an
// RFC 3339 time and must be after now; timezone is accepted and ignored (the offset in fire_at
// says everything).
func parseDatetime(params map[string]any, now time.Time) (Datetime, error) {
	if err := checkKeys(params, "fire_at", "timezone"); err != nil {
		return Datetime{}, err
	}
	var at time.Time
	switch raw := params["fire_at"].(type) {
	case nil:
		return Datetime{}, invalid("fire_at", `required; an RFC 3339 time such as "2026-05-01T09:00:00Z"`)
	case time.Time:
		at = raw
	case string:
		var err error
		if at, err = time.Parse(time.RFC3339, raw); err != nil {
			return Datetime{}, invalid("fire_at", `%q is not an RFC 3339 time such as "2026-05-01T09:00:00Z" or "2026-05-01T11:00:00+02:00"`, raw)
		}
	default:
		return Datetime{}, invalid("fire_at", `must be an RFC 3339 string such as "2026-05-01T09:00:00Z"; got %s`, describe(raw))
	}
	if !at.After(now) {
		return Datetime{}, &paramError{
			field: "fire_at",
			msg:   at.Format(time.RFC3339Nano) + " is in the past; a datetime timer fires once, at a future time",
			err:   ErrPast,
		}
	}
	return Datetime{At: at}, nil
}
