package packs

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// Names, refs, labels and descriptions have length limits, checked at validation with the
// file:line:col of the value; the message never repeats a long value whole.
func TestLoadLimitsLengths(t *testing.T) {
	t.Parallel()
	long := func(n int) string { return strings.Repeat("a", n) }
	for _, tt := range []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"action name", map[string]string{"actions/a.yaml": "ref: " + long(8000) + "\nrunner_type: noop\n"},
			`actions/a.yaml:1:1: action name "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa…" is 8000 characters long; names are at most 128`},
		{"qualified action ref", map[string]string{"actions/a.yaml": "ref: p." + long(129) + "\nrunner_type: noop\n"},
			`actions/a.yaml:1:1: action name "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa…" is 129 characters long; names are at most 128`},
		{"rule name", map[string]string{"rules/r.yaml": "name: " + long(200) + "\ntrigger_ref: core.intervaltimer\ntrigger_params: {interval: 5}\naction_ref: core.noop\n"},
			`rules/r.yaml:1:1: rule name "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa…" is 200 characters long; names are at most 128`},
		{"trigger name", map[string]string{"triggers/t.yaml": "ref: " + long(129) + "\n"},
			`triggers/t.yaml:1:1: trigger name "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa…" is 129 characters long; names are at most 128`},
		{"pack ref", map[string]string{"pack.yaml": "ref: " + long(65) + "\nversion: 1.0.0\n"},
			`pack.yaml:1:1: pack ref "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa…" is 65 characters long; pack refs are at most 64`},
		{"rule's ref into another pack", map[string]string{"rules/r.yaml": "ref: r\ntrigger_ref: core.intervaltimer\ntrigger_params: {interval: 5}\naction_ref: other." + long(8000) + "\n"},
			`rules/r.yaml:4:1: action ref "other.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa…" is too long: a pack ref is at most 64 characters and a name at most 128`},
		{"parameter name", map[string]string{"actions/a.yaml": "ref: a\nrunner_type: noop\nparameters:\n  " + long(65) + ": {type: string}\n"},
			`actions/a.yaml:4:3: parameter name "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa…" is 65 characters long; parameter names are at most 64`},
		{"label", map[string]string{"actions/a.yaml": "ref: a\nrunner_type: noop\nlabel: " + long(257) + "\n"},
			`actions/a.yaml:3:1: label is 257 characters long; labels are at most 256`},
		{"description", map[string]string{"rules/r.yaml": "ref: r\ntrigger_ref: core.intervaltimer\ntrigger_params: {interval: 5}\naction_ref: core.noop\ndescription: " + long(4097) + "\n"},
			`rules/r.yaml:5:1: description is 4097 bytes long; descriptions are at most 4096`},
		{"parameter description", map[string]string{"actions/a.yaml": "ref: a\nrunner_type: noop\nparameters:\n  x: {type: string, description: " + long(5000) + "}\n"},
			`actions/a.yaml:4:21: parameters.x.description is 5000 bytes long; descriptions are at most 4096`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			errs := problemLines(t, packFS(tt.files), ".")
			require.Equal(t, []string{tt.want}, errs)
		})
	}
}

// The limits are inclusive.
func TestLoadAcceptsLengthsAtTheLimit(t *testing.T) {
	t.Parallel()
	p, err := Load(packFS(map[string]string{
		"pack.yaml":      "ref: " + strings.Repeat("p", 64) + "\nversion: 1.0.0\n",
		"actions/a.yaml": "ref: " + strings.Repeat("a", 128) + "\nrunner_type: noop\nlabel: " + strings.Repeat("l", 256) + "\ndescription: " + strings.Repeat("d", 4096) + "\nparameters:\n  " + strings.Repeat("x", 64) + ": {type: string}\n",
	}), ".", testNow)
	require.NoError(t, err)
	require.Len(t, p.Actions, 1)
}
