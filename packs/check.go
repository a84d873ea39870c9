package packs

import (
	"encoding/json"
	"time"

	"github.com/attune-run/attune/rules"
	"github.com/attune-run/attune/sensors/schedule"
)

// The checks below belong to the packages that evaluate rules and fire timers; a pack is checked
// with exactly the code that will run it. Their errors already name the field at fault
// (criteria[0].operator, action_params.message, trigger_params.fire_at).

// checkCriteria reports whether a rule's criteria compile.
func checkCriteria(raw json.RawMessage) error {
	_, err := rules.CompileCriteria(raw)
	return err
}

// checkTemplates reports whether every template in a rule's action parameters compiles.
func checkTemplates(params map[string]any) error {
	return rules.CheckTemplates(params)
}

// checkSchedule reports whether a timer rule's trigger parameters make a valid schedule; a
// datetime timer must fire after now.
func checkSchedule(triggerRef string, params map[string]any, now time.Time) error {
	_, err := schedule.Parse(triggerRef, params, now)
	return err
}
