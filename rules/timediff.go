package rules

import (
	"fmt"
	"time"
)

// timeLayouts are the date formats timediff_lt and timediff_gt read, most specific first. A time
// without a zone is UTC, as in StackStorm.
var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04Z07:00",
	"2006-01-02T15:04",
	time.RFC1123Z,
	time.RFC1123,
	"2006-01-02",
}

// parseTime reads a date string in one of timeLayouts.
func parseTime(s string) (time.Time, bool) {
	for _, layout := range timeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// timediff compiles timediff_lt and timediff_gt: the field is a date, the value a number of
// seconds, and the test compares the field's age (now minus the date, in seconds) with it. A
// field that is not a date string fails the test.
func timediff(accept func(age, limit float64) bool) func(any) (test, error) {
	return func(want any) (test, error) {
		n, ok := toNumber(want)
		if !ok {
			return nil, fmt.Errorf("must be a number of seconds; got %s", brief(want))
		}
		limit := n.float()
		return func(have any, now time.Time) bool {
			s, ok := have.(string)
			if !ok {
				return false
			}
			t, ok := parseTime(s)
			return ok && accept(now.Sub(t).Seconds(), limit)
		}, nil
	}
}
