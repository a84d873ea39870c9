package packs

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// An action's env is a mapping of shell names to literal strings; a name attune keeps for itself
// (ATTUNE_*), a name that is not a shell identifier, or a value that is not a string is an error
// at its line.
func TestActionEnvProblems(t *testing.T) {
	t.Parallel()
	files := map[string]string{"actions/a.yaml": `ref: a
runner_type: shell
entry_point: a.sh
env:
  GOOD: "ok"
  ATTUNE_SECRETS_KEY: "x"
  attune_pack: "y"
  1BAD: "z"
  PORT: 8080
`, "actions/a.sh": "env\n"}
	got := problemLines(t, packFS(files), ".")
	want := []string{
		`actions/a.yaml:6:3: env name "ATTUNE_SECRETS_KEY" starts with ATTUNE_`,
		`actions/a.yaml:7:3: env name "attune_pack" starts with ATTUNE_`,
		`actions/a.yaml:8:3: env name "1BAD" must be letters, digits and _`,
		`actions/a.yaml:9:3: env PORT must be a string (quote it`,
	}
	require.Len(t, got, len(want), "got:\n%s", strings.Join(got, "\n"))
	for i := range want {
		require.Contains(t, got[i], want[i], "got:\n%s", strings.Join(got, "\n"))
	}
}

// A valid env is loaded as it is written.
func TestActionEnvLoads(t *testing.T) {
	t.Parallel()
	p, err := Load(packFS(map[string]string{
		"actions/a.yaml": "ref: a\nrunner_type: shell\nentry_point: a.sh\nenv: {GREETING: \"hello $HOME\", EMPTY: \"\"}\n",
		"actions/a.sh":   "env\n",
	}), ".", time.Now())
	require.NoError(t, err)
	require.Equal(t, map[string]string{"GREETING": "hello $HOME", "EMPTY": ""}, p.Actions[0].Env)
}
