package main_test

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// loginPack writes a pack whose action takes a secret parameter, and returns its directory.
func loginPack(t *testing.T, in *instance) string {
	t.Helper()
	pack := filepath.Join(in.dir, "sec")
	writeFiles(t, pack, map[string]string{
		"pack.yaml": "ref: sec\nversion: 1.0.0\n",
		"actions/login.yaml": `ref: login
runner_type: noop
parameters:
  user: {type: string, required: true}
  password: {type: string, secret: true, required: true}
`,
	})
	return pack
}

// Secret parameters work on the embedded default with no configuration: the first command
// generates a key into the data directory, readable by attune's user only. On an external
// database an explicit secrets.key is still required.
func TestSecretsKeyOfTheEmbeddedDefault(t *testing.T) {
	t.Parallel()
	in := newInstance(t)
	in.env = append(in.env, "ATTUNE_SECRETS_KEY=")
	pack := loginPack(t, in)
	out, errOut, code := in.attune("pack", "register", pack)
	require.Equal(t, 0, code, "%s %s", out, errOut)

	out, errOut, code = in.attune("run", "sec.login", "user=bob", "password=e2e-hunter2", "--json")
	require.Equal(t, 0, code, "%s %s", out, errOut)
	require.NotContains(t, out+errOut, "e2e-hunter2")
	var x struct {
		Status     string         `json:"status"`
		Parameters map[string]any `json:"parameters"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &x))
	require.Equal(t, "completed", x.Status)
	require.Equal(t, map[string]any{"user": "bob", "password": "********"}, x.Parameters)

	keyFile := filepath.Join(in.dir, "data", "secrets.key")
	st, err := os.Stat(keyFile)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), st.Mode().Perm())
	b, err := os.ReadFile(keyFile)
	require.NoError(t, err)
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
	require.NoError(t, err)
	require.Len(t, raw, 32)

	// The same key on the next run: the first execution's secret can still be opened.
	out, errOut, code = in.attune("run", "sec.login", "user=ann", "password=other")
	require.Equal(t, 0, code, "%s %s", out, errOut)
	b2, err := os.ReadFile(keyFile)
	require.NoError(t, err)
	require.Equal(t, b, b2)

	ext, _ := externalInstance(t)
	ext.env = append(ext.env, "ATTUNE_SECRETS_KEY=")
	out, errOut, code = ext.attune("migrate")
	require.Equal(t, 0, code, "%s %s", out, errOut)
	out, errOut, code = ext.attune("pack", "register", loginPack(t, ext))
	require.Equal(t, 0, code, "%s %s", out, errOut)
	_, errOut, code = ext.attune("run", "sec.login", "user=bob", "password=e2e-hunter2")
	require.Equal(t, 2, code, errOut)
	require.Contains(t, errOut, "action sec.login has secret parameters (password): secrets.key is not set")
	require.NotContains(t, errOut, "e2e-hunter2")
	_, err = os.Stat(filepath.Join(ext.dir, "data", "secrets.key"))
	require.ErrorIs(t, err, os.ErrNotExist, "no key is generated for an external database")
}
