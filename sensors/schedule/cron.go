package schedule

import (
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// cronParser accepts 6 fields (sec min hour dom mon dow), 5 fields (seconds = 0) and
// descriptors such as @hourly, @daily and @every 90s.
var cronParser = cron.NewParser(
	cron.SecondOptional | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor,
)

// Cron is a core.crontimer schedule: fire times matching Expression, read as wall-clock time in
// Location. Build it with Parse.
type Cron struct {
	Expression string
	Location   *time.Location
	spec       cron.Schedule
}

// Next returns the first match strictly after t, in t's location; zero when no match exists
// within five years (robfig/cron's search limit). Across daylight-saving changes it follows
// robfig/cron: a wall time that does not exist that day (02:30 when clocks jump from 02:00 to
// 03:00) is skipped, and one that happens twice (when clocks go back) fires twice.
func (c Cron) Next(t time.Time) time.Time {
	next := c.spec.Next(t.In(c.Location))
	if next.IsZero() {
		return next
	}
	return next.In(t.Location())
}

// Kind returns KindCron.
func (Cron) Kind() string { return KindCron }

// parseCron reads trigger_params {expression, timezone} of core.crontimer. now is used to reject
// an expression that never fires (such as February 30th).
func parseCron(params map[string]any, now time.Time) (Cron, error) {
	if err := checkKeys(params, "expression", "timezone"); err != nil {
		return Cron{}, err
	}
	loc, err := parseTimezone(params["timezone"])
	if err != nil {
		return Cron{}, err
	}
	raw, ok := params["expression"]
	if !ok || raw == nil {
		return Cron{}, invalid("expression", `required; a cron expression such as "0 */5 * * * *" (sec min hour dom mon dow)`)
	}
	expr, ok := raw.(string)
	if !ok {
		return Cron{}, invalid("expression", "must be a string; got %s", describe(raw))
	}
	expr = strings.TrimSpace(expr)
	if strings.HasPrefix(expr, "TZ=") || strings.HasPrefix(expr, "CRON_TZ=") {
		return Cron{}, invalid("expression", "%q: set the time zone in trigger_params.timezone, not in the expression", expr)
	}
	if rest, ok := strings.CutPrefix(expr, "@every "); ok {
		// robfig/cron silently turns anything under a second (even 0 or negative) into 1s.
		if d, err := time.ParseDuration(strings.TrimSpace(rest)); err == nil && d < time.Second {
			return Cron{}, invalid("expression", "%q: @every needs a duration of at least 1s", expr)
		}
	}
	spec, err := cronParser.Parse(expr)
	if err != nil {
		return Cron{}, invalid("expression", "%q: %v; write 6 fields (sec min hour dom mon dow), 5 (min hour dom mon dow) or a descriptor such as @hourly", expr, err)
	}
	c := Cron{Expression: expr, Location: loc, spec: spec}
	if c.Next(now).IsZero() {
		return Cron{}, invalid("expression", "%q never fires", expr)
	}
	return c, nil
}

// parseTimezone reads trigger_params.timezone, an IANA name; absent, null or "" means UTC.
func parseTimezone(raw any) (*time.Location, error) {
	if raw == nil {
		return time.UTC, nil
	}
	name, ok := raw.(string)
	if !ok {
		return nil, invalid("timezone", "must be an IANA time zone name such as \"Europe/Paris\"; got %s", describe(raw))
	}
	if name == "" || name == "UTC" {
		return time.UTC, nil
	}
	if name == "Local" {
		return nil, invalid("timezone", `"Local" depends on the server; use an IANA name such as "Europe/Paris"`)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, invalid("timezone", "unknown time zone %q; use an IANA name such as \"Europe/Paris\" or \"UTC\"", name)
	}
	return loc, nil
}
