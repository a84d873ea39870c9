package packs

import (
	"testing"

	"github.com/stretchr/testify/require"
)

const timerRule = "ref: r\ntrigger_ref: core.intervaltimer\ntrigger_params: {interval: 5}\naction_ref: core.noop\n"

// An unknown key in any pack file is an error at its file:line:col, with a "did you mean" when
// one known key is close; keys starting with x- are the author's own.
func TestLoadRefusesUnknownKeys(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name  string
		files map[string]string
		want  []string
	}{
		{name: "typo in a rule", files: map[string]string{"rules/r.yaml": timerRule + "critera:\n  trigger.level: {type: eq, pattern: error}\n"},
			want: []string{`rules/r.yaml:5:1: unknown key "critera" in a rule; did you mean "criteria"?`}},
		{name: "unknown key in a rule, nothing close", files: map[string]string{"rules/r.yaml": timerRule + "schedule: daily\n"},
			want: []string{`rules/r.yaml:5:1: unknown key "schedule" in a rule; known keys: ref, name, pack, label, description, enabled, trigger_ref, trigger_params, trigger, action_ref, action_params, action, criteria, conditions; write your own keys as x-name`}},
		{name: "case", files: map[string]string{"rules/r.yaml": timerRule + "Criteria: {}\n"},
			want: []string{`rules/r.yaml:5:1: unknown key "Criteria" in a rule; did you mean "criteria"?`}},
		{name: "rule's nested action", files: map[string]string{"rules/r.yaml": "ref: r\ntrigger: {type: core.intervaltimer, parameters: {interval: 5}}\naction:\n  ref: core.noop\n  paramters: {message: hi}\n"},
			want: []string{`rules/r.yaml:5:3: unknown key "paramters" in a rule's action; did you mean "parameters"?`}},
		{name: "rule's nested trigger", files: map[string]string{"rules/r.yaml": "ref: r\ntrigger: {typ: core.intervaltimer, type: core.intervaltimer, parameters: {interval: 5}}\naction: {ref: core.noop}\n"},
			want: []string{`rules/r.yaml:2:11: unknown key "typ" in a rule's trigger; did you mean "type"?`}},
		{name: "action", files: map[string]string{"actions/a.yaml": "ref: a\nrunner_type: noop\ntimout: 5\n"},
			want: []string{`actions/a.yaml:3:1: unknown key "timout" in an action; did you mean "timeout"?`}},
		{name: "action retry", files: map[string]string{"actions/a.yaml": "ref: a\nrunner_type: noop\nretry: {count: 2, delai: 1}\n"},
			want: []string{`actions/a.yaml:3:19: unknown key "delai" in retry; did you mean "delay"?`}},
		{name: "parameter spec", files: map[string]string{"actions/a.yaml": "ref: a\nrunner_type: noop\nparameters:\n  x: {type: string, requird: true}\n"},
			want: []string{`actions/a.yaml:4:21: unknown key "requird" in parameter "x"; did you mean "required"?`}},
		{name: "JSON Schema parameters", files: map[string]string{"triggers/t.yaml": "ref: t\npayload_schema:\n  type: object\n  propertes: {a: {type: string}}\n"},
			want: []string{`triggers/t.yaml:4:3: unknown key "propertes" in a parameter schema; did you mean "properties"?`}},
		{name: "trigger", files: map[string]string{"triggers/t.yaml": "ref: t\npaylod: {a: {type: string}}\n"},
			want: []string{`triggers/t.yaml:2:1: unknown key "paylod" in a trigger; did you mean "payload"?`}},
		{name: "pack.yaml", files: map[string]string{"pack.yaml": "ref: p\nversion: 1.0.0\nconfg: {a: 1}\n"},
			want: []string{`pack.yaml:3:1: unknown key "confg" in pack.yaml; did you mean "config"?`}},
		{name: "trigger params of this pack's trigger", files: map[string]string{
			"triggers/t.yaml": "ref: t\nparameters: {item_id: {type: string}}\n",
			"rules/r.yaml":    "ref: r\ntrigger_ref: t\ntrigger_params: {itemid: abc}\naction_ref: core.noop\n"},
			want: []string{`rules/r.yaml:3:18: unknown key "itemid" in trigger_params of trigger p.t; did you mean "item_id"?`}},
		{name: "disabled action", files: map[string]string{"actions/a.yaml": "ref: a\nrunner_type: noop\nenabled: false\n"},
			want: []string{`actions/a.yaml:3:1: enabled: false would be ignored: attune has no disabled actions; remove the action, or disable the rules that run it`}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, problemLines(t, packFS(tt.files), "."))
		})
	}
}

// Keys starting with x- are accepted anywhere, and so is StackStorm's and the predecessor's
// metadata, which attune does not use.
func TestLoadAcceptsExtensionAndForeignKeys(t *testing.T) {
	t.Parallel()
	_, err := Load(packFS(map[string]string{
		"pack.yaml": "ref: p\nversion: 1.0.0\nx-owner: ops\nauthor: Jane\nemail: j@example.com\nkeywords: [a]\n" +
			"contributors: [Bob]\ndependencies: [core]\npython_versions: [\"3\"]\nstackstorm_version: \">=3.0\"\ntags: [t]\n",
		"actions/a.yaml":  "ref: a\nrunner_type: noop\nenabled: true\nx-note: reviewed\ntags: [t]\noutput_schema: {}\nparameters:\n  x: {type: string, x-ui: wide, position: 1, immutable: true}\n",
		"triggers/t.yaml": "ref: t\nx-note: n\npayload_schema: {type: object, properties: {a: {type: string}}, additionalProperties: false, x-doc: d}\n",
		"rules/r.yaml":    timerRule + "x-note: sent to ops\ntags: [t]\n",
	}), ".", testNow)
	require.NoError(t, err)
}

func TestSuggest(t *testing.T) {
	t.Parallel()
	known := []string{"criteria", "conditions", "trigger", "trigger_ref", "ref", "name", "pack"}
	for key, want := range map[string]string{
		"critera":    "criteria",
		"CRITERIA":   "criteria",
		"trigger_rf": "trigger_ref",
		"triger":     "trigger",
		"nam":        "name",
		"xyz":        "",
		"pac":        "pack",
		"rf":         "ref",
		"a":          "",
	} {
		require.Equal(t, want, suggest(key, known), key)
	}
}
