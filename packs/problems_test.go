package packs

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/require"

	"github.com/attune-run/attune"
)

func TestProblemError(t *testing.T) {
	t.Parallel()

	tests := []struct {
		p    Problem
		want string
	}{
		{Problem{File: "p/rules/x.yaml", Line: 7, Col: 3, Msg: "bad"}, "p/rules/x.yaml:7:3: bad"},
		{Problem{File: "p/rules/x.yaml", Line: 7, Msg: "bad"}, "p/rules/x.yaml:7: bad"},
		{Problem{File: "p/rules/x.yaml", Msg: "bad"}, "p/rules/x.yaml: bad"},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, tt.p.Error())
	}
}

func TestErrors(t *testing.T) {
	t.Parallel()

	err := error(Errors{{File: "a", Line: 1, Msg: "x"}, {File: "b", Msg: "y"}})
	require.Equal(t, "a:1: x\nb: y", err.Error())
	require.ErrorIs(t, err, attune.ErrInvalid)
	var errs Errors
	require.True(t, errors.As(err, &errs))
	require.Len(t, errs, 2)
}

func TestFileNames(t *testing.T) {
	t.Parallel()

	fsys := fstest.MapFS{
		"packs/p/pack.yaml":      {Data: []byte("ref: p\nversion: 1.0.0\n")},
		"packs/p/actions/a.yaml": {Data: []byte("ref: a\nrunner_type: rust\n")},
	}
	_, err := Load(fsys, "packs/p", testNow)
	require.EqualError(t, err, `packs/p/actions/a.yaml:2:1: unknown runner_type "rust"; known runtimes: shell (or bash, sh), python (or python3), noop, http (or http-request), kv, and StackStorm's local-shell-cmd (or run-local), local-shell-script (or run-local-script), python-script (or run-python), inquirer, orquesta (or workflow)`)

	// LoadDir names files by the path it was given, so they can be opened from where it ran.
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "mypack", "rules"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "mypack", "pack.yaml"), []byte("ref: mypack\nversion: 1.0.0\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "mypack", "rules", "x.yaml"), []byte("ref: x\ntrigger_ref: other.t\naction_ref: nope\n"), 0o644))
	_, err = LoadDir(filepath.Join(dir, "mypack"), testNow)
	want := filepath.Join(dir, "mypack", "rules", "x.yaml") + `:3:1: action "mypack.nope" is not defined in this pack: no actions/*.yaml has ref: nope`
	require.EqualError(t, err, want)
}

func TestLoadMissingDirectory(t *testing.T) {
	t.Parallel()

	_, err := LoadDir(filepath.Join(t.TempDir(), "nosuch"), testNow)
	require.ErrorIs(t, err, os.ErrNotExist)
	var errs Errors
	require.False(t, errors.As(err, &errs), "a missing directory is not a pack problem")

	_, err = Load(fstest.MapFS{"file": {}}, "file", testNow)
	require.ErrorContains(t, err, "load pack file: not a directory")
}
