package main_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// A payload or parameters nested deeper than 64 levels are refused where they enter, with exit
// code 2 and an error naming them, and nothing is stored: a 10,000-deep event used to be
// accepted, and then broke `event list --json` and `event get --json`.
func TestE2EDeepNestingRefused(t *testing.T) {
	in := newInstance(t)
	deep := strings.Repeat(`{"a":`, 10_000) + "1" + strings.Repeat("}", 10_000)

	pack := filepath.Join(in.dir, "lim")
	for name, content := range map[string]string{
		"pack.yaml":           "ref: lim\nversion: 1.0.0\n",
		"triggers/alert.yaml": "ref: alert\n",
		"actions/show.yaml":   "ref: show\nrunner_type: noop\nparameters:\n  data: {type: object}\n",
	} {
		require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(pack, name)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(pack, name), []byte(content), 0o644))
	}
	out, errOut, code := in.attune("pack", "register", pack)
	require.Equal(t, 0, code, "%s %s", out, errOut)
	_, errOut, code = in.attune("event", "emit", "lim.alert", "--payload", deep)
	require.Equal(t, 2, code, errOut)
	require.Contains(t, errOut, "payload: nested more than 64 levels deep (at payload.a.a.a")
	_, errOut, code = in.attune("event", "emit", "lim.alert", "data:="+deep)
	require.Equal(t, 2, code, errOut)
	require.Contains(t, errOut, "payload: nested more than 64 levels deep (at payload.data.a.a")
	_, errOut, code = in.attune("run", "lim.show", "data:="+deep)
	require.Equal(t, 2, code, errOut)
	require.Contains(t, errOut, "parameters: nested more than 64 levels deep (at parameters.data.a.a")

	out, errOut, code = in.attune("event", "list", "--json")
	require.Equal(t, 0, code, errOut)
	require.Equal(t, "[]", strings.TrimSpace(out), "nothing was stored")
}
