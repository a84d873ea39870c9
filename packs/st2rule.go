package packs

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/internal/yamlsrc"
)

// StackStorm's timer triggers, read as aliases of attune's.
const (
	st2IntervalTimer = "core.st2.IntervalTimer"
	st2CronTimer     = "core.st2.CronTimer"
	st2DateTimer     = "core.st2.DateTimer"
	st2Webhook       = "core.st2.webhook"
	st2ActionTrigger = "core.st2.generic.actiontrigger"
)

// st2Trigger translates a rule's StackStorm timer trigger (core.st2.IntervalTimer, CronTimer,
// DateTimer) with its parameters into attune's timer and parameters, and core.st2.webhook {url}
// into core.webhook, and core.st2.generic.actiontrigger into core.actiontrigger. Other triggers are returned as they are.
func st2Trigger(t target) target {
	if !strings.HasPrefix(t.ref, "core.st2.") {
		return t
	}
	p := t.params
	bad := func(format string, args ...any) target {
		t.paramsAt.errorf("%s: "+format, append([]any{t.ref}, args...)...)
		t.ref, t.params = "", map[string]any{} // reported: nothing more to check
		return t
	}
	known := func(keys ...string) bool {
		for _, k := range sortedKeys(p) {
			if !slices.Contains(keys, k) {
				t.paramsAt.errorf("%s: unknown parameter %q; its parameters: %s", t.ref, clip(k), strings.Join(keys, ", "))
				t.ref = ""
				return false
			}
		}
		return true
	}
	switch t.ref {
	case st2IntervalTimer:
		if !known("delta", "unit", "timezone") {
			return t
		}
		delta, ok := p["delta"].(float64)
		if !ok || delta != float64(int64(delta)) || delta < 1 {
			return bad("delta must be a whole number of units, 1 or more, found %v", p["delta"])
		}
		unit, _ := p["unit"].(string)
		switch unit {
		case "weeks":
			delta, unit = delta*7, "days"
		case "days", "hours", "minutes", "seconds":
		default:
			return bad("unit must be one of weeks, days, hours, minutes, seconds, found %v", p["unit"])
		}
		t.ref, t.params = attune.TriggerInterval, map[string]any{"interval": delta, "unit": unit}
	case st2DateTimer:
		if !known("date", "timezone") {
			return t
		}
		date, _ := p["date"].(string)
		loc, err := location(p["timezone"])
		if err != nil {
			return bad("%v", err)
		}
		at, err := parseST2Date(date, loc)
		if err != nil {
			return bad("%v", err)
		}
		t.ref, t.params = attune.TriggerDatetime, map[string]any{"fire_at": at.Format(time.RFC3339)}
	case st2CronTimer:
		fields := []string{"second", "minute", "hour", "day", "month", "day_of_week"}
		if !known(append(slices.Clone(fields), "timezone", "year", "week")...) {
			return t
		}
		for _, k := range []string{"year", "week"} {
			if v, ok := p[k]; ok && fmt.Sprint(v) != "*" {
				return bad("%s is not supported yet: attune's cron has no %s field; leave it out", k, k)
			}
		}
		expr, err := st2Cron(p)
		if err != nil {
			return bad("%v", err)
		}
		tz, _ := p["timezone"].(string)
		if tz == "" {
			tz = "UTC"
		}
		t.ref, t.params = attune.TriggerCron, map[string]any{"expression": expr, "timezone": tz}
	case st2Webhook:
		if !known("url") {
			return t
		}
		t.ref = attune.TriggerWebhook
	case st2ActionTrigger:
		if len(p) > 0 {
			return bad("takes no parameters: match the action and the status in criteria (trigger.action_name, trigger.status)")
		}
		t.ref = attune.TriggerAction
	}
	return t
}

// location reads a pytz-style time zone name; UTC when absent.
func location(v any) (*time.Location, error) {
	name, _ := v.(string)
	if name == "" {
		return time.UTC, nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("unknown timezone %q: use an IANA name such as Europe/Paris", name)
	}
	return loc, nil
}

// parseST2Date reads DateTimer's date: "2014-12-31 23:59:59" in loc, or RFC 3339.
func parseST2Date(s string, loc *time.Location) (time.Time, error) {
	for _, layout := range []string{"2006-01-02 15:04:05", "2006-01-02T15:04:05", "2006-01-02 15:04"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, nil
		}
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("date %q must look like 2030-12-31 23:59:59 (in timezone) or be RFC 3339", clip(s))
}

// st2Cron builds a six-field cron expression (second first) from APScheduler's fields, as
// StackStorm's CronTimer reads them: fields above the least significant one given are *, those
// below it their minimum; day_of_week counts from 0 = Monday, as in APScheduler.
func st2Cron(p map[string]any) (string, error) {
	order := []string{"month", "day", "hour", "minute", "second"} // most significant first
	least := -1
	for i, k := range order {
		if _, ok := p[k]; ok {
			least = i
		}
	}
	val := map[string]string{}
	for i, k := range order {
		v, given := p[k]
		switch {
		case given:
			s, err := cronField(k, v)
			if err != nil {
				return "", err
			}
			val[k] = s
		case i > least && least >= 0 || (least < 0 && k == "second"):
			if k == "day" {
				val[k] = "1"
			} else {
				val[k] = "0"
			}
		default:
			val[k] = "*"
		}
	}
	dow := "*"
	if v, ok := p["day_of_week"]; ok {
		s, err := cronField("day_of_week", v)
		if err != nil {
			return "", err
		}
		dow = s
	}
	return strings.Join([]string{val["second"], val["minute"], val["hour"], val["day"], val["month"], dow}, " "), nil
}

// cronField is one APScheduler field as cron text. day_of_week numbers move from APScheduler's
// 0 = Monday to cron's 0 = Sunday; names (mon-fri) pass through.
func cronField(name string, v any) (string, error) {
	switch v := v.(type) {
	case float64:
		if v != float64(int64(v)) || v < 0 {
			return "", fmt.Errorf("%s must be a whole number or a cron field such as \"*/5\", found %v", name, v)
		}
		n := int64(v)
		if name == "day_of_week" {
			if n > 6 {
				return "", fmt.Errorf("day_of_week must be 0 (Monday) to 6 (Sunday), found %d", n)
			}
			n = (n + 1) % 7
		}
		return strconv.FormatInt(n, 10), nil
	case string:
		if strings.TrimSpace(v) == "" || strings.ContainsAny(v, " \t") {
			return "", fmt.Errorf("%s %q must be one cron field, such as 5, \"*/5\" or \"mon-fri\"", name, clip(v))
		}
		if name == "day_of_week" && strings.ContainsAny(v, "0123456789") {
			return "", fmt.Errorf("day_of_week %q: write days by name (mon-fri), because APScheduler and cron number them differently", clip(v))
		}
		return v, nil
	default:
		return "", fmt.Errorf("%s must be a number or a cron field string, found %s", name, yamlsrc.Describe(v))
	}
}

// checkShellCmdParams refuses a rule that renders a template into the cmd of a local-shell-cmd
// action it can see (this pack's or core's): event data there would run as shell. The value
// belongs in a parameter of its own, which local-shell-cmd fills in quoted.
func (l *loader) checkShellCmdParams(r attune.Rule, t target) {
	cmd, ok := r.ActionParams["cmd"].(string)
	if !ok || !strings.Contains(cmd, "{{") {
		return
	}
	var actions []attune.Action
	actions = append(actions, l.pack.Actions...)
	if core := l.others["core"]; core != nil {
		actions = append(actions, core.Actions...)
	}
	for _, a := range actions {
		if a.Ref == r.ActionRef && a.Runtime == attune.RuntimeShellCmd {
			t.paramsAt.errorf("cmd of %s holds a template: event data rendered into a shell command would run as shell; "+
				"declare an action of your own with runner_type: local-shell-cmd, cmd: \"… {{ value }}\" and a value parameter, and pass the data as that parameter (it is filled in shell-quoted)", a.Ref)
			return
		}
	}
}
