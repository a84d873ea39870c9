package schedule

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/attune-run/attune"
)

// ErrPast is wrapped by the error Parse returns for a datetime timer whose fire_at is not after
// now. It wraps attune.ErrInvalid, so callers that only check ErrInvalid still see it.
var ErrPast = fmt.Errorf("%w: fire time in the past", attune.ErrInvalid)

// Parse builds the schedule of a timer from its trigger ref (attune.TriggerInterval,
// attune.TriggerCron or attune.TriggerDatetime) and the rule's trigger_params:
//
//	core.intervaltimer  interval (integer > 0), unit (seconds|minutes|hours|days, default seconds)
//	core.crontimer      expression (6 fields with seconds, 5 fields, or @descriptor),
//	                    timezone (IANA name, default UTC)
//	core.datetimetimer  fire_at (RFC 3339, after now)
//
// Unknown keys are rejected (typo protection); timezone is accepted and ignored by interval and
// datetime timers. Errors wrap attune.ErrInvalid and name the field, e.g.
// `trigger_params.unit: must be one of seconds, minutes, hours, days; got "weeks"`; a datetime in
// the past also wraps ErrPast.
func Parse(triggerRef string, params map[string]any, now time.Time) (Schedule, error) {
	switch triggerRef {
	case attune.TriggerInterval:
		return orNil(parseInterval(params))
	case attune.TriggerCron:
		return orNil(parseCron(params, now))
	case attune.TriggerDatetime:
		return orNil(parseDatetime(params, now))
	}
	return nil, fmt.Errorf("%w: trigger %q is not a timer; timers are %s, %s and %s", attune.ErrInvalid,
		triggerRef, attune.TriggerInterval, attune.TriggerCron, attune.TriggerDatetime)
}

// orNil returns a nil Schedule (not a zero value in a non-nil interface) with an error.
func orNil[S Schedule](s S, err error) (Schedule, error) {
	if err != nil {
		return nil, err
	}
	return s, nil
}

// paramError is a bad trigger parameter. Its message names the field; it wraps err, which is
// attune.ErrInvalid or an error wrapping it.
type paramError struct {
	field string // "" for trigger_params as a whole
	msg   string
	err   error
}

func (e *paramError) Error() string {
	if e.field == "" {
		return "trigger_params: " + e.msg
	}
	return "trigger_params." + e.field + ": " + e.msg
}

func (e *paramError) Unwrap() error { return e.err }

// invalid returns a paramError for field wrapping attune.ErrInvalid.
func invalid(field, format string, args ...any) error {
	return &paramError{field: field, msg: fmt.Sprintf(format, args...), err: attune.ErrInvalid}
}

// checkKeys rejects keys of params other than known, naming them all.
func checkKeys(params map[string]any, known ...string) error {
	var unknown []string
	for k := range params {
		if !slices.Contains(known, k) {
			unknown = append(unknown, strconv.Quote(k))
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	slices.Sort(unknown)
	noun := "key"
	if len(unknown) > 1 {
		noun = "keys"
	}
	return invalid("", "unknown %s %s; known: %s", noun, strings.Join(unknown, ", "), strings.Join(known, ", "))
}

// integer converts any Go integer, an integral float, or a json.Number to int64.
func integer(v any) (int64, bool) {
	switch n := v.(type) {
	case int:
		return int64(n), true
	case int8:
		return int64(n), true
	case int16:
		return int64(n), true
	case int32:
		return int64(n), true
	case int64:
		return n, true
	case uint:
		return int64(n), uint64(n) <= math.MaxInt64
	case uint8:
		return int64(n), true
	case uint16:
		return int64(n), true
	case uint32:
		return int64(n), true
	case uint64:
		return int64(n), n <= math.MaxInt64
	case float32:
		return integer(float64(n))
	case float64:
		if n != math.Trunc(n) || n < math.MinInt64 || n >= math.MaxInt64 {
			return 0, false
		}
		return int64(n), true
	case json.Number:
		i, err := n.Int64()
		return i, err == nil
	}
	return 0, false
}

// describe renders a parameter value for an error message: strings quoted, null as null.
func describe(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case string:
		return strconv.Quote(v)
	case json.Number:
		return v.String()
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%v", v)
	}
	return string(b)
}
