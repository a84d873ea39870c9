package packs

import (
	"errors"
	"testing"
	"testing/fstest"
	"time"

	"github.com/stretchr/testify/require"
)

// A rule's literal action parameters are checked against the schema of the action it runs in
// the same pack, each problem at its key; templated values wait for an event.
func TestLoadChecksRuleActionParams(t *testing.T) {
	t.Parallel()
	const action = `ref: wait
runner_type: noop
parameters:
  seconds: {type: integer, required: true, maximum: 60}
  mode: {type: string, enum: [fast, slow], default: fast}
  note: {type: string}
`
	const head = "ref: r\ntrigger_ref: core.intervaltimer\ntrigger_params: {interval: 1, unit: seconds}\n" // lines 1-3
	tests := []struct {
		name string
		rule string // after head, from line 4
		want []string
	}{
		{name: "valid literals", rule: "action_ref: wait\naction_params: {seconds: 5, mode: slow}\n"},
		{name: "templates are checked when an event renders them",
			rule: "action_ref: wait\naction_params: {seconds: \"{{ event.payload.n }}\", note: \"n={{ event.payload.n }}\"}\n"},
		{name: "StackStorm's nested form", rule: "action: {ref: wait, parameters: {seconds: 1}}\n"},
		{name: "a default does not satisfy another required parameter", rule: "action_ref: wait\naction_params: {mode: slow}\n",
			want: []string{"rules/r.yaml:5:1: action_params.seconds: required (action p.wait)"}},
		{name: "no action_params at all", rule: "action_ref: wait\n",
			want: []string{"rules/r.yaml:4:1: action_params.seconds: required (action p.wait)"}},
		{name: "each bad literal at its key", rule: "action_ref: wait\naction_params:\n  seconds: 600\n  mode: medium\n  colour: red\n",
			want: []string{
				"rules/r.yaml:6:3: action_params.seconds: must be <= 60, got 600 (action p.wait)",
				"rules/r.yaml:7:3: action_params.mode: must be one of \"fast\", \"slow\", got \"medium\" (action p.wait)",
				"rules/r.yaml:8:3: action_params.colour: unknown parameter (known: mode, note, seconds) (action p.wait)",
			}},
		{name: "a templated unknown parameter", rule: "action: {ref: wait, parameters: {seconds: 1, colour: \"{{ event.payload.c }}\"}}\n",
			want: []string{"rules/r.yaml:4:46: action_params.colour: unknown parameter (known: mode, note, seconds) (action p.wait)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fsys := fstest.MapFS{
				"pack.yaml":         {Data: []byte("ref: p\nversion: 1.0.0\n")},
				"actions/wait.yaml": {Data: []byte(action)},
				"rules/r.yaml":      {Data: []byte(head + tt.rule)},
			}
			_, err := Load(fsys, ".", time.Now())
			if tt.want == nil {
				require.NoError(t, err)
				return
			}
			var errs Errors
			require.True(t, errors.As(err, &errs), "%v", err)
			got := make([]string, len(errs))
			for i, p := range errs {
				got[i] = p.Error()
			}
			require.Equal(t, tt.want, got)
		})
	}
}

// A rule running another pack's action is not checked here: that schema is not in the pack.
func TestLoadLeavesOtherPacksActionParams(t *testing.T) {
	t.Parallel()
	fsys := fstest.MapFS{
		"pack.yaml":    {Data: []byte("ref: p\nversion: 1.0.0\n")},
		"rules/r.yaml": {Data: []byte("ref: r\ntrigger_params: {interval: 1, unit: seconds}\ntrigger_ref: core.intervaltimer\naction_ref: core.sleep\naction_params: {anything: 1}\n")},
	}
	_, err := Load(fsys, ".", time.Now())
	require.NoError(t, err)
}
