package schedule

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// intervalUnits are the accepted values of trigger_params.unit, in the order error messages
// list them.
var intervalUnits = []struct {
	name string
	d    time.Duration
}{
	{"seconds", time.Second},
	{"minutes", time.Minute},
	{"hours", time.Hour},
	{"days", 24 * time.Hour},
}

// Interval is a core.intervaltimer schedule: a fire every Every, anchored on the previous
// scheduled time (not on when the previous fire ran).
type Interval struct {
	Every time.Duration
}

// Next returns t + Every.
func (i Interval) Next(t time.Time) time.Time { return t.Add(i.Every) }

// Kind returns KindInterval.
func (Interval) Kind() string { return KindInterval }

// catchUp computes CatchUp arithmetically: k whole intervals fit in (scheduled, now].
func (i Interval) catchUp(scheduled, now time.Time) (time.Time, int) {
	if i.Every <= 0 {
		return time.Time{}, 0
	}
	if !now.After(scheduled) {
		return scheduled.Add(i.Every), 0
	}
	k := now.Sub(scheduled) / i.Every
	return scheduled.Add((k + 1) * i.Every), int(k)
}

// parseInterval reads trigger_params {interval, unit, timezone} of core.intervaltimer; a day is
// always 24 hours, whatever the time zone.
func parseInterval(params map[string]any) (Interval, error) {
	if err := checkKeys(params, "interval", "unit", "timezone"); err != nil {
		return Interval{}, err
	}
	unitName, unit, err := parseUnit(params["unit"])
	if err != nil {
		return Interval{}, err
	}
	raw, ok := params["interval"]
	if !ok || raw == nil {
		return Interval{}, invalid("interval", "required; the number of %s between fires, e.g. 30", unitName)
	}
	n, err := positiveInteger(raw)
	if err != nil {
		return Interval{}, invalid("interval", "%v", err)
	}
	if n > int64(math.MaxInt64/unit) {
		return Interval{}, invalid("interval", "%d %s is too long", n, unitName)
	}
	return Interval{Every: time.Duration(n) * unit}, nil
}

// parseUnit reads trigger_params.unit; absent or null means seconds.
func parseUnit(raw any) (string, time.Duration, error) {
	if raw == nil {
		return "seconds", time.Second, nil
	}
	name, ok := raw.(string)
	if ok {
		for _, u := range intervalUnits {
			if u.name == name {
				return u.name, u.d, nil
			}
		}
	}
	names := make([]string, len(intervalUnits))
	for i, u := range intervalUnits {
		names[i] = u.name
	}
	return "", 0, invalid("unit", "must be one of %s; got %s", strings.Join(names, ", "), describe(raw))
}

// positiveInteger accepts any Go integer, a float64 (how JSON decodes numbers) with an integral
// value, or a json.Number; it rejects strings, even numeric ones.
func positiveInteger(raw any) (int64, error) {
	n, ok := integer(raw)
	switch {
	case !ok:
		if s, isString := raw.(string); isString {
			return 0, fmt.Errorf("must be an integer > 0; got the string %q, write it without quotes", s)
		}
		return 0, fmt.Errorf("must be an integer > 0; got %s", describe(raw))
	case n <= 0:
		return 0, fmt.Errorf("must be an integer > 0; got %d", n)
	}
	return n, nil
}
