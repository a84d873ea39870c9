package main_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// attune pack register DIR... registers several packs in one go, in dependency order whatever
// the order given; when any of them is not valid, every problem is listed and none is
// registered.
func TestE2EPackRegisterMany(t *testing.T) {
	in := newInstance(t)
	stop, logs := in.start()
	url := in.dbURL()
	writeFiles(t, filepath.Join(in.dir, "base"), map[string]string{
		"pack.yaml":      "ref: base\nversion: 1.0.0\n",
		"actions/a.yaml": "ref: a\nrunner_type: noop\n",
	})
	writeFiles(t, filepath.Join(in.dir, "app"), map[string]string{
		"pack.yaml":      "name: app\nversion: 1.0.0\ndependencies: [base]\n",
		"actions/b.yaml": "ref: b\nrunner_type: noop\n",
	})
	writeFiles(t, filepath.Join(in.dir, "broken"), map[string]string{
		"pack.yaml":      "ref: broken\nversion: 1.0.0\n",
		"actions/c.yaml": "ref: c\nrunner_type: nosuch\n",
	})
	writeFiles(t, filepath.Join(in.dir, "other"), map[string]string{
		"pack.yaml":      "ref: other\nversion: 1.0.0\n",
		"actions/d.yaml": "ref: d\nrunner_type: noop\n",
	})
	conn := connect(t, url)
	registered := func() []string {
		rows, err := conn.Query(context.Background(), `SELECT ref FROM attune.pack WHERE ref IN ('app', 'base', 'broken', 'other') ORDER BY ref`)
		require.NoError(t, err)
		var refs []string
		for rows.Next() {
			var r string
			require.NoError(t, rows.Scan(&r))
			refs = append(refs, r)
		}
		require.NoError(t, rows.Err())
		return refs
	}

	out, errOut, code := in.attune("pack", "register", filepath.Join(in.dir, "other"), filepath.Join(in.dir, "broken"), filepath.Join(in.dir, "app"))
	require.Equal(t, 2, code, out)
	require.Contains(t, errOut, filepath.Join("broken", "actions", "c.yaml")+":2:")
	require.Contains(t, errOut, "nothing was registered")
	require.Empty(t, registered(), "no pack is registered when one is not valid")

	out, errOut, code = in.attune("pack", "register", filepath.Join(in.dir, "app"), filepath.Join(in.dir, "base"), filepath.Join(in.dir, "other"))
	require.Equal(t, 0, code, errOut)
	require.Regexp(t, `(?s)registered pack base .*registered pack app .*registered pack other `, out, "base before app, which depends on it")
	require.Equal(t, []string{"app", "base", "other"}, registered())
	require.Equal(t, 0, stop(), "logs:\n%s", logs)
}
