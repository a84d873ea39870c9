package main_test

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// attuneStdin is instance.attune with stdin.
func (in *instance) attuneStdin(stdin string, args ...string) (string, string, int) {
	in.t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Dir, cmd.Env = in.dir, in.env
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return out.String(), errb.String(), ee.ExitCode()
	}
	require.NoError(in.t, err)
	return out.String(), errb.String(), 0
}

// Flags and parameters that cannot mean what was written are refused, with exit code 2, before
// anything runs.
func TestCLIRefusesAmbiguousInput(t *testing.T) {
	t.Parallel()
	in := newInstance(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"execution", "list", "--limit", "0"}, "--limit 0: must be at least 1"},
		{[]string{"execution", "list", "--limit", "-5"}, "--limit -5: must be at least 1"},
		{[]string{"event", "list", "--limit", "0"}, "--limit 0: must be at least 1"},
		{[]string{"run", "core.echo", "--timeout", "-1s", "message=hi"}, "--timeout -1s: must not be negative"},
		{[]string{"event", "emit", "x.y", "--timeout", "-1s"}, "--timeout -1s: must be positive"},
		{[]string{"run", "core.echo", "message=a", "message=b"}, "parameter message is given twice (arguments 1 and 2)"},
		{[]string{"event", "emit", "x.y", "key=a", "key:=1"}, "parameter key is given twice"},
		{[]string{"pack", "lst"}, `unknown command "lst" for "attune pack" (known: `},
	} {
		out, errOut, code := in.attune(tc.args...)
		require.Equal(t, 2, code, "%v: %s %s", tc.args, out, errOut)
		require.Contains(t, errOut, tc.want, "%v", tc.args)
	}
	_, err := os.Stat(filepath.Join(in.dir, "data"))
	require.ErrorIs(t, err, os.ErrNotExist, "refused before touching the database")
}

// Values too large for the command line, and secrets, come from files or stdin.
func TestRunParamsFromFilesAndStdin(t *testing.T) {
	t.Parallel()
	in := newInstance(t)
	big := strings.Repeat("0123456789abcdef", 200<<10/16) // 200 KiB: over Linux's 128 KiB per argument
	file := filepath.Join(in.dir, "message.txt")
	require.NoError(t, os.WriteFile(file, []byte(big+"\n"), 0o600))

	out, errOut, code := in.attune("run", "core.echo", "message=@"+file, "--log-level", "debug", "--log-format", "json")
	require.Equal(t, 0, code, errOut)
	require.Equal(t, big+"\n", out)
	var started string
	for _, line := range strings.Split(errOut, "\n") {
		if strings.Contains(line, `"msg":"action started"`) {
			started = line
		}
	}
	require.NotEmpty(t, started, "a debug record from the runtimes: %s", errOut)
	require.Equal(t, 1, strings.Count(started, `"component":"runtimes"`), "component named once: %s", started)

	out, errOut, code = in.attuneStdin("message: from stdin\n", "run", "core.echo", "--params-file", "-", "--json")
	require.Equal(t, 0, code, errOut)
	var x struct {
		Parameters map[string]any `json:"parameters"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &x))
	require.Equal(t, "from stdin", x.Parameters["message"])

	out, errOut, code = in.attune("run", "core.echo", "message=@@literal")
	require.Equal(t, 0, code, errOut)
	require.Equal(t, "@literal\n", out)
}
