package packs

import (
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
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

// checkTemplates reports whether every template in a rule's action parameters compiles. A
// Jinja statement ({% if %}, {% for %}) is refused: attune would pass it on as text.
func checkTemplates(params map[string]any) error {
	if path := jinjaStatement("action_params", params); path != "" {
		return fmt.Errorf("%s: {%% … %%} statements are not supported: attune renders {{ expression }} templates only, and would pass the statement on as text; "+
			"write the condition as an expression ({{ x == 'a' ? 'yes' : 'no' }}) or in the action", path)
	}
	return rules.CheckTemplates(params)
}

// jinjaStatement returns the path of the first string under v, in sorted key order, holding a
// {% … %} statement; "" when none does.
func jinjaStatement(path string, v any) string {
	switch v := v.(type) {
	case string:
		if strings.Contains(v, "{%") {
			return path
		}
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(v)) {
			if p := jinjaStatement(path+"."+k, v[k]); p != "" {
				return p
			}
		}
	case []any:
		for i, e := range v {
			if p := jinjaStatement(fmt.Sprintf("%s[%d]", path, i), e); p != "" {
				return p
			}
		}
	}
	return ""
}

// checkSchedule reports whether a timer rule's trigger parameters make a valid schedule; a
// datetime timer must fire after now.
func checkSchedule(triggerRef string, params map[string]any, now time.Time) error {
	_, err := schedule.Parse(triggerRef, params, now)
	return err
}

// webhookName is what a webhook's name (its URL's last part) may hold.
var webhookName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$`)

// checkWebhookParams checks a core.webhook rule's trigger parameters: url, the webhook's name.
func checkWebhookParams(params map[string]any) error {
	for k := range params {
		if k != "url" {
			return fmt.Errorf("trigger_params.%s: unknown parameter of core.webhook (known: url)", k)
		}
	}
	url, ok := params["url"].(string)
	switch {
	case params["url"] == nil:
		return fmt.Errorf("trigger_params: core.webhook needs url, the webhook's name: the rule fires on POST /api/v1/webhooks/<url>")
	case !ok || !webhookName.MatchString(url):
		return fmt.Errorf("trigger_params.url: %v is not a webhook name: letters, digits, _ . and -, at most 128", params["url"])
	}
	return nil
}

// configRead matches a template's read of one pack config key, by either name.
var configRead = regexp.MustCompile(`\b(?:config_context|pack\.config)\s*(?:\.\s*([A-Za-z_][A-Za-z0-9_]*)|\[\s*['"]([^'"]+)['"]\s*\])`)

// secretConfigRead returns the path of the first rule parameter, in sorted key order, whose
// template reads a config key secret marks, and that key; "" when none does. Rules see such a
// key as ********, so the rule would pass the mask on instead of the value.
func secretConfigRead(path string, v any, secret map[string]bool) (string, string) {
	switch v := v.(type) {
	case string:
		for _, m := range configRead.FindAllStringSubmatch(v, -1) {
			if key := m[1] + m[2]; secret[key] {
				return path, key
			}
		}
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(v)) {
			if p, key := secretConfigRead(path+"."+k, v[k], secret); p != "" {
				return p, key
			}
		}
	case []any:
		for i, e := range v {
			if p, key := secretConfigRead(fmt.Sprintf("%s[%d]", path, i), e, secret); p != "" {
				return p, key
			}
		}
	}
	return "", ""
}
