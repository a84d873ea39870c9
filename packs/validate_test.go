package packs

import (
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/require"
)

// packFS builds an in-memory pack from file contents. A valid pack.yaml for pack "p" is added
// unless files has one; a value of "<dir>" makes a directory, "<none>" removes the file.
func packFS(files map[string]string) fstest.MapFS {
	fsys := fstest.MapFS{"pack.yaml": {Data: []byte("ref: p\nversion: 1.0.0\n")}}
	for name, content := range files {
		if content == "<none>" {
			delete(fsys, name)
			continue
		}
		if content == "<dir>" {
			fsys[name] = &fstest.MapFile{Mode: fs.ModeDir | 0o755}
			continue
		}
		fsys[name] = &fstest.MapFile{Data: []byte(content)}
	}
	return fsys
}

// noop is a valid action to point rules at.
const noop = "ref: run\nrunner_type: noop\nparameters: {a: {type: integer}, message: {type: string}}\n"

func TestLoadProblems(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name  string
		files map[string]string
		want  []string
	}{
		// YAML itself.
		{
			name:  "syntax error position",
			files: map[string]string{"actions/a.yaml": "ref: a\nrunner_type: [noop\n"},
			want:  []string{"actions/a.yaml:2:14: invalid YAML: sequence end token ']' not found"},
		},
		{
			name:  "tab indentation",
			files: map[string]string{"actions/a.yaml": "ref: a\nparameters:\n\tx: 1\n"},
			want:  []string{"actions/a.yaml:3:1: invalid YAML: found character '\t' that cannot start any token"},
		},
		{
			name:  "duplicate key",
			files: map[string]string{"actions/a.yaml": "ref: a\nrunner_type: noop\nref: b\n"},
			want:  []string{`actions/a.yaml:3:1: invalid YAML: mapping key "ref" already defined at [1:1]`},
		},
		{
			name:  "empty file",
			files: map[string]string{"actions/a.yaml": "# nothing yet\n"},
			want:  []string{"actions/a.yaml: file is empty; expected a YAML mapping"},
		},
		{
			name:  "list at the top",
			files: map[string]string{"actions/a.yaml": "- ref: a\n"},
			want:  []string{"actions/a.yaml:1:1: expected a mapping of keys like ref: and description:, found a list"},
		},
		{
			name:  "two documents",
			files: map[string]string{"actions/a.yaml": "ref: a\nrunner_type: noop\n---\nref: b\n"},
			want:  []string{"actions/a.yaml:4:1: found a second YAML document; put one definition per file"},
		},
		{
			name:  "value JSON cannot hold",
			files: map[string]string{"actions/a.yaml": "ref: a\nrunner_type: noop\nparameters:\n  x: {type: number, default: .nan}\n"},
			want:  []string{"actions/a.yaml:3:1: parameters cannot be stored as JSON: json: unsupported value: NaN"},
		},

		// pack.yaml.
		{
			name:  "missing pack.yaml",
			files: map[string]string{"pack.yaml": "<none>", "actions/a.yaml": "ref: a\nrunner_type: noop\n"},
			want:  []string{"pack.yaml: missing pack.yaml: a pack directory needs one with at least ref: and version:"},
		},
		{
			name:  "pack ref and version missing",
			files: map[string]string{"pack.yaml": "label: P\n"},
			want: []string{
				"pack.yaml: pack.yaml needs a ref: the pack's short name, like ref: mypack",
				"pack.yaml: pack.yaml needs a version: a semantic version like 1.0.0",
			},
		},
		{
			name:  "bad pack ref and unquoted version",
			files: map[string]string{"pack.yaml": "ref: My Pack\nversion: 1.0\nconfig: [a]\n"},
			want: []string{
				`pack.yaml:1:1: pack ref "My Pack" must be lowercase letters, digits, _ and -, starting with a letter`,
				"pack.yaml:2:1: version must be a semantic version like 1.0.0, quoted when in doubt; YAML read the number 1",
				"pack.yaml:3:1: config must be a mapping, found a list",
			},
		},
		{
			name:  "StackStorm name stands in for ref",
			files: map[string]string{"pack.yaml": "name: Hello StackStorm\nversion: 1.0.0\n"},
			want:  []string{`pack.yaml:1:1: pack name "Hello StackStorm" must be lowercase letters, digits, _ and -, starting with a letter`},
		},

		// Action refs.
		{
			name:  "action without ref",
			files: map[string]string{"actions/hello.yaml": "runner_type: noop\n"},
			want:  []string{"actions/hello.yaml: action needs a ref: its name, like ref: hello"},
		},
		{
			name:  "action ref in another pack",
			files: map[string]string{"actions/a.yaml": "ref: q.a\nrunner_type: noop\n"},
			want:  []string{`actions/a.yaml:1:1: action ref "q.a" names pack "q", but this is pack "p"; write ref: a`},
		},
		{
			name:  "trigger ref with two dots", // an action's may have them (StackStorm's galaxy.install)
			files: map[string]string{"triggers/a.yaml": "ref: p.a.b\n"},
			want:  []string{`triggers/a.yaml:1:1: trigger ref "p.a.b" must be a name, or pack.name`},
		},
		{
			name:  "action name with a space",
			files: map[string]string{"actions/a.yaml": "ref: say hi\nrunner_type: noop\n"},
			want:  []string{`actions/a.yaml:1:1: action name "say hi" must be letters, digits, _ and -, starting with a letter or _`},
		},
		{
			name:  "name and pack disagree",
			files: map[string]string{"actions/a.yaml": "ref: a\nname: b\npack: q\nrunner_type: noop\n"},
			want: []string{
				`actions/a.yaml:2:1: name "b" disagrees with ref "a"; keep only ref`,
				`actions/a.yaml:3:1: pack "q" does not match this pack's ref "p"`,
			},
		},
		{
			name: "duplicate action across files",
			files: map[string]string{
				"actions/a.yaml":  "ref: a\nrunner_type: noop\n",
				"actions/a2.yml":  "# again\nname: a\nrunner_type: noop\n",
				"actions/b.yaml":  "ref: b\nrunner_type: noop\n",
				"triggers/a.yaml": "ref: a\n", // another kind: no clash
			},
			want: []string{
				`actions/a.yaml:1:1: duplicate action ref "p.a", also defined in actions/a2.yml:2`,
				`actions/a2.yml:2:1: duplicate action ref "p.a", also defined in actions/a.yaml:1`,
			},
		},

		// Runtimes and entry points.
		{
			name:  "unknown runner_type",
			files: map[string]string{"actions/a.yaml": "ref: a\nrunner_type: nodejs\nentry_point: a.js\n"},
			want:  []string{`actions/a.yaml:2:1: unknown runner_type "nodejs"; known runtimes: shell (or bash, sh), python (or python3), noop, http (or http-request), kv, and StackStorm's`},
		},
		{
			name:  "shell action without entry_point",
			files: map[string]string{"actions/a.yaml": "ref: a\n"},
			want:  []string{"actions/a.yaml: a shell action needs an entry_point: the script under actions/ to run"},
		},
		{
			name:  "missing entry point file",
			files: map[string]string{"actions/a.yaml": "ref: a\nrunner_type: python\nentry_point: a.py\n"},
			want:  []string{`actions/a.yaml:3:1: entry_point "a.py" not found: expected the file actions/a.py`},
		},
		{
			name:  "entry point outside actions",
			files: map[string]string{"actions/a.yaml": "ref: a\nentry_point: ../pack.yaml\n"},
			want:  []string{`actions/a.yaml:2:1: entry_point "../pack.yaml" must be a relative path to a file under actions/`},
		},
		{
			name:  "absolute entry point",
			files: map[string]string{"actions/a.yaml": "ref: a\nentry_point: /bin/sh\n"},
			want:  []string{`actions/a.yaml:2:1: entry_point "/bin/sh" must be a relative path to a file under actions/`},
		},
		{
			name:  "entry point is a directory",
			files: map[string]string{"actions/a.yaml": "ref: a\nentry_point: lib\n", "actions/lib": "<dir>"},
			want:  []string{`actions/a.yaml:2:1: entry_point "lib" is a directory, not a file`},
		},
		{
			name:  "noop with entry point",
			files: map[string]string{"actions/a.yaml": "ref: a\nrunner_type: noop\nentry_point: a.sh\n", "actions/a.sh": "echo\n"},
			want:  []string{"actions/a.yaml:3:1: runner_type noop runs in process, with no script; remove entry_point"},
		},

		{
			name: "problem inside a merged mapping",
			files: map[string]string{"actions/a.yaml": `ref: a
runner_type: noop
x-base: &base {type: string, description: shared}
parameters:
  x:
    <<: *base
    requird: true
`},
			want: []string{`actions/a.yaml:7:5: unknown key "requird" in parameter "x"`},
		},
		{
			name:  "empty strings count as missing",
			files: map[string]string{"actions/a.yaml": "ref: \"\"\nentry_point: ''\nparameters: {x: {type: ''}}\n"},
			want: []string{
				"actions/a.yaml: action needs a ref: its name, like ref: a",
				"actions/a.yaml: a shell action needs an entry_point: the script under actions/ to run",
				`actions/a.yaml:3:14: parameter "x" needs a type`,
			},
		},

		// Other action fields.
		{
			name:  "timeout zero, formats unknown",
			files: map[string]string{"actions/a.yaml": "ref: a\nrunner_type: noop\ntimeout: 0\nparameter_format: toml\noutput_format: xml\nparameter_delivery: env\n"},
			want: []string{
				"actions/a.yaml:3:1: timeout must be a positive number of seconds, found 0; leave it out for the default of 300",
				`actions/a.yaml:4:1: parameter_format "toml" is not one of json, dotenv, yaml`,
				`actions/a.yaml:5:1: output_format "xml" is not one of text, json, yaml, jsonl`,
				`actions/a.yaml:6:1: parameter_delivery "env" is not one of stdin, file`,
			},
		},
		{
			name:  "fractional timeout",
			files: map[string]string{"actions/a.yaml": "ref: a\nrunner_type: noop\ntimeout: 1.5\n"},
			want:  []string{"actions/a.yaml:3:1: timeout must be a whole number, found the number 1.5"},
		},
		{
			name:  "dotenv parameter that is no shell name",
			files: map[string]string{"actions/a.yaml": "ref: a\nrunner_type: noop\nparameter_format: dotenv\nparameters:\n  my-param: {type: string}\n"},
			want:  []string{`actions/a.yaml:4:1: parameter "my-param" cannot be sent as dotenv: names must be letters, digits and _, not starting with a digit`},
		},

		// Parameter schemas.
		{
			name: "parameter specs",
			files: map[string]string{"actions/a.yaml": `ref: a
runner_type: noop
parameters:
  untyped: {description: x}
  empty:
  scalar: string
  range: {type: integer, minimum: 5, maximum: 1}
  re: {type: string, pattern: "("}
  choice: {type: integer, enum: [1, two], default: 3}
  strmin: {type: string, minimum: 1}
  low: {type: number, minimum: 1, default: 0}
  patdef: {type: string, pattern: "^a", default: b}
  flags: {type: boolean, required: "yes"}
`},
			want: []string{
				`actions/a.yaml:4:3: parameter "untyped" needs a type: one of string, integer, number, boolean, object, array`,
				`actions/a.yaml:5:3: parameter "empty" needs a spec, at least {type: string}`,
				`actions/a.yaml:6:3: parameters.scalar must be a mapping, found the string "string"`,
				`actions/a.yaml:7:26: parameter "range": minimum 5 is greater than maximum 1`,
				"actions/a.yaml:8:22: parameter \"re\": pattern does not compile: error parsing regexp: missing closing ): `(`",
				`actions/a.yaml:9:27: parameter "choice": enum value the string "two" is not of type integer`,
				`actions/a.yaml:9:43: parameter "choice": default the number 3 is not in enum`,
				`actions/a.yaml:10:26: parameter "strmin": minimum applies only to integer and number parameters`,
				`actions/a.yaml:11:35: parameter "low": default 0 is outside minimum/maximum`,
				`actions/a.yaml:12:41: parameter "patdef": default "b" does not match pattern`,
				`actions/a.yaml:13:26: parameters.flags.required must be true or false, found the string "yes"`,
			},
		},
		{
			name:  "JSON Schema that is not an object",
			files: map[string]string{"triggers/t.yaml": "ref: t\npayload_schema:\n  type: array\n"},
			want:  []string{`triggers/t.yaml:3:3: payload_schema: a JSON Schema here must have type: object, found "array"`},
		},
		{
			name:  "payload and output both",
			files: map[string]string{"triggers/t.yaml": "ref: t\npayload: {a: {type: string}}\noutput: {a: {type: string}}\n"},
			want:  []string{"triggers/t.yaml:3:1: payload and output mean the same; keep only one"},
		},

		// Rules.
		{
			name:  "rule without trigger and action",
			files: map[string]string{"rules/r.yaml": "ref: r\n"},
			want: []string{
				"rules/r.yaml: rule needs trigger_ref: the trigger whose events it handles",
				"rules/r.yaml: rule needs action_ref: the action it runs",
			},
		},
		{
			name: "rule on things this pack does not define",
			files: map[string]string{
				"actions/run.yaml": noop,
				"rules/r.yaml":     "ref: r\ntrigger_ref: p.nosuch\naction_ref: walk\n",
			},
			want: []string{
				`rules/r.yaml:2:1: trigger "p.nosuch" is not defined in this pack: no triggers/*.yaml has ref: nosuch`,
				`rules/r.yaml:3:1: action "p.walk" is not defined in this pack: no actions/*.yaml has ref: walk`,
			},
		},
		{
			name: "rule ref malformed",
			files: map[string]string{
				"rules/r.yaml": "ref: r\ntrigger_ref: a.b.c\naction_ref: .x\n",
			},
			want: []string{
				`rules/r.yaml:2:1: trigger ref "a.b.c" must be a name from this pack, or pack.name`,
				`rules/r.yaml:3:1: action ref ".x" must be a name from this pack, or pack.name`,
			},
		},
		{
			name: "both forms at once",
			files: map[string]string{
				"actions/run.yaml": noop,
				"rules/r.yaml": `ref: r
trigger_ref: x.t
trigger: {type: x.t}
action: {ref: run, parameters: {a: 1}}
action_params: {a: 2}
criteria: {}
conditions: {}
`,
			},
			want: []string{
				"rules/r.yaml:3:1: trigger_ref and trigger mean the same; keep only one",
				"rules/r.yaml:5:1: action_params and action.parameters mean the same; keep only one",
				"rules/r.yaml:7:1: criteria and conditions mean the same; keep only one",
			},
		},
		{
			name: "nested form without ref",
			files: map[string]string{
				"rules/r.yaml": "ref: r\ntrigger: {parameters: {a: 1}}\naction: {parameters: {}}\n",
			},
			want: []string{
				"rules/r.yaml:2:1: trigger needs type: the trigger whose events it handles",
				"rules/r.yaml:3:1: action needs ref: the action it runs",
			},
		},
		{
			name: "bad criteria and template name the rule file",
			files: map[string]string{
				"actions/run.yaml": noop,
				"rules/r.yaml": `ref: r
trigger_ref: x.t
conditions: {level: {type: around, pattern: 1}}
action:
  ref: run
  parameters:
    message: "{{ event.payload.level + }}"
`,
			},
			want: []string{
				`rules/r.yaml:3:22: criteria["level"].type: unknown operator "around"`,
				`rules/r.yaml:7:5: action_params.message: template "{{ event.payload.level + }}"`,
			},
		},
		{
			name: "timer rules",
			files: map[string]string{
				"rules/a.yaml": "ref: a\ntrigger_ref: core.intervaltimer\naction_ref: core.noop\n",
				"rules/b.yaml": "ref: b\naction: {ref: core.noop}\ntrigger:\n  type: core.crontimer\n  parameters:\n    expression: every minute\n",
				"rules/c.yaml": "ref: c\ntrigger_ref: core.datetimetimer\ntrigger_params: {fire_at: 2025-06-01T11:59:59Z}\naction_ref: core.noop\n",
				"rules/d.yaml": "ref: d\ntrigger_ref: core.datetimetimer\ntrigger_params: {fire_at: 2025-06-01T12:00:01Z}\naction_ref: core.noop\n",
			},
			want: []string{
				"rules/a.yaml:2:1: trigger_params.interval: ",
				"rules/b.yaml:6:5: trigger_params.expression: ",
				"rules/c.yaml:3:18: trigger_params.fire_at: 2025-06-01T11:59:59Z is in the past",
			},
		},
		{
			name: "webhook rules",
			files: map[string]string{
				"rules/a.yaml": "ref: a\ntrigger_ref: core.webhook\naction_ref: core.noop\n",
				"rules/b.yaml": "ref: b\ntrigger_ref: core.webhook\ntrigger_params: {url: \"a b\"}\naction_ref: core.noop\n",
				"rules/c.yaml": "ref: c\ntrigger_ref: core.webhook\ntrigger_params: {url: deploy, path: x}\naction_ref: core.noop\n",
				"rules/d.yaml": "ref: d\ntrigger_ref: core.webhook\ntrigger_params: {url: deploy}\naction_ref: core.noop\n",
			},
			want: []string{
				"rules/a.yaml:2:1: trigger_params: core.webhook needs url",
				"rules/b.yaml:3:18: trigger_params.url: a b is not a webhook name",
				"rules/c.yaml:3:31: trigger_params.path: unknown parameter of core.webhook",
			},
		},
		{
			name: "type mismatches in a rule",
			files: map[string]string{
				"actions/run.yaml": noop,
				"rules/r.yaml":     "ref: r\nenabled: \"yes please\"\ntrigger_ref: [x]\naction_ref: run\naction_params: [1]\n",
			},
			want: []string{
				`rules/r.yaml:2:1: enabled must be true or false, found the string "yes please"`,
				"rules/r.yaml:3:1: trigger_ref must be a string, found a list",
				"rules/r.yaml:5:1: action_params must be a mapping, found a list",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := problemLines(t, packFS(tt.files), ".")
			require.Len(t, got, len(tt.want), "got:\n%s", strings.Join(got, "\n"))
			for i := range tt.want {
				require.Contains(t, got[i], tt.want[i], "got:\n%s", strings.Join(got, "\n"))
			}
		})
	}
}

func TestFieldPath(t *testing.T) {
	t.Parallel()

	tests := []struct {
		msg, root string
		want      []string
	}{
		{`criteria[0].operator: unknown operator "x"`, "criteria", []string{"0", "operator"}},
		{`criteria["trigger.level"].type: bad`, "criteria", []string{"trigger.level", "type"}},
		{`criteria.expression: line 1, column 3: bad`, "criteria", []string{"expression"}},
		{`criteria: must be a list`, "criteria", nil},
		{`action_params.items[0].name: template "{{ x }}": bad`, "action_params", []string{"items", "0", "name"}},
		{`trigger_params.fire_at: in the past`, "trigger_params", []string{"fire_at"}},
		{`something else`, "trigger_params", nil},
		{`trigger_params.fire_at`, "trigger_params", nil}, // no ": " after the path
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, fieldPath(tt.msg, tt.root), tt.msg)
	}
}
