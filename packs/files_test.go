package packs

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// diskPack writes files (name to content) under a new directory and returns it. A pack.yaml for
// pack "p" is added unless files has one.
func diskPack(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	if _, ok := files["pack.yaml"]; !ok {
		files["pack.yaml"] = "ref: p\nversion: 1.0.0\n"
	}
	for name, content := range files {
		p := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	}
	return dir
}

// validateWithin runs ValidateDir on dir and returns its problems as strings, failing the test
// when loading does not return within a minute: a pack file that blocks must not hang the loader.
func validateWithin(t *testing.T, dir string) []string {
	t.Helper()
	type result struct {
		errs []string
		err  error
	}
	done := make(chan result, 1)
	go func() {
		_, _, err := ValidateDir(context.Background(), dir, testNow)
		var errs Errors
		if err != nil && !errors.As(err, &errs) {
			done <- result{err: err}
			return
		}
		done <- result{errs: problemStrings(errs)}
	}()
	select {
	case r := <-done:
		require.NoError(t, r.err)
		return r.errs
	case <-time.After(time.Minute):
		t.Fatal("loading the pack hangs")
		return nil
	}
}

const shellAction = "ref: a\nentry_point: a.sh\n"

// A symlink that leads out of the pack is refused, naming the file and where it leads: its
// content never reaches the action's entry_content. A YAML file that does is refused too.
func TestLoadRefusesSymlinksOutOfThePack(t *testing.T) {
	t.Parallel()
	outside := filepath.Join(t.TempDir(), "password.txt")
	require.NoError(t, os.WriteFile(outside, []byte("hunter2\n"), 0o600))
	outsideYAML := filepath.Join(t.TempDir(), "rule.yaml")
	require.NoError(t, os.WriteFile(outsideYAML, []byte("ref: r\ntrigger_ref: core.intervaltimer\ntrigger_params: {interval: 5}\naction_ref: core.noop\n"), 0o600))

	dir := diskPack(t, map[string]string{"actions/a.yaml": shellAction})
	require.NoError(t, os.Symlink(outside, filepath.Join(dir, "actions", "a.sh")))
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "rules"), 0o755))
	require.NoError(t, os.Symlink(outsideYAML, filepath.Join(dir, "rules", "r.yaml")))

	errs := validateWithin(t, dir)

	require.Len(t, errs, 2, strings.Join(errs, "\n"))
	require.Contains(t, errs[0], filepath.Join(dir, "actions", "a.yaml")+":2:1: entry_point \"a.sh\": "+
		filepath.Join(dir, "actions", "a.sh")+" leads to "+outside+", outside the pack directory")
	require.Contains(t, errs[1], filepath.Join(dir, "rules", "r.yaml")+": "+
		filepath.Join(dir, "rules", "r.yaml")+" leads to "+outsideYAML+", outside the pack directory")
	for _, e := range errs {
		require.NotContains(t, e, "hunter2")
	}
}

// A symlink to a file inside the pack is fine, and so is a pack directory reached by a symlink.
func TestLoadFollowsSymlinksInsideThePack(t *testing.T) {
	t.Parallel()
	dir := diskPack(t, map[string]string{"actions/a.yaml": shellAction, "lib/shared.sh": "echo shared\n"})
	require.NoError(t, os.Symlink(filepath.Join("..", "lib", "shared.sh"), filepath.Join(dir, "actions", "a.sh")))
	link := filepath.Join(t.TempDir(), "linked")
	require.NoError(t, os.Symlink(dir, link))

	for _, d := range []string{dir, link} {
		p, err := LoadDir(d, testNow)
		require.NoError(t, err)
		require.Equal(t, "echo shared\n", string(p.Actions[0].EntryContent))
	}
}

// Devices and named pipes are refused before they are read: /dev/zero would fill memory, and a
// FIFO would block the loader forever. (/dev/zero is outside the pack as well.)
func TestLoadRefusesFilesThatAreNotRegular(t *testing.T) {
	t.Parallel()
	dir := diskPack(t, map[string]string{"actions/a.yaml": shellAction, "actions/b.yaml": "ref: b\nentry_point: b.sh\n"})
	require.NoError(t, os.Symlink("/dev/zero", filepath.Join(dir, "actions", "a.sh")))
	require.NoError(t, syscall.Mkfifo(filepath.Join(dir, "actions", "b.sh"), 0o644))
	require.NoError(t, syscall.Mkfifo(filepath.Join(dir, "actions", "c.yaml"), 0o644))

	errs := validateWithin(t, dir)

	require.Len(t, errs, 3, strings.Join(errs, "\n"))
	require.Contains(t, errs[0], filepath.Join(dir, "actions", "a.yaml")+":2:1: entry_point \"a.sh\": "+
		filepath.Join(dir, "actions", "a.sh")+" leads to /dev/zero, outside the pack directory")
	require.Contains(t, errs[1], filepath.Join(dir, "actions", "b.yaml")+":2:1: entry_point \"b.sh\": "+
		filepath.Join(dir, "actions", "b.sh")+" is a named pipe, not a regular file")
	require.Contains(t, errs[2], filepath.Join(dir, "actions", "c.yaml")+": "+
		filepath.Join(dir, "actions", "c.yaml")+" is a named pipe, not a regular file")
}

// A pack YAML file is at most 1 MiB and an entry point at most 10 MiB; the error says the limit.
func TestLoadCapsFileSizes(t *testing.T) {
	t.Parallel()
	dir := diskPack(t, map[string]string{"actions/a.yaml": shellAction, "actions/a.sh": ""})
	require.NoError(t, os.Truncate(filepath.Join(dir, "actions", "a.sh"), MaxEntryPointSize+1))
	big := "ref: r\ndescription: x\n# " + strings.Repeat("x", MaxYAMLFileSize) + "\n"
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "rules"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "rules", "r.yaml"), []byte(big), 0o644))

	errs := validateWithin(t, dir)

	require.Len(t, errs, 2, strings.Join(errs, "\n"))
	require.Contains(t, errs[0], filepath.Join(dir, "actions", "a.yaml")+":2:1: entry_point \"a.sh\": "+
		filepath.Join(dir, "actions", "a.sh")+" is larger than 10 MiB, the limit for an entry point")
	require.Contains(t, errs[1], filepath.Join(dir, "rules", "r.yaml")+": "+
		filepath.Join(dir, "rules", "r.yaml")+" is larger than 1 MiB, the limit for a pack YAML file")

	// At the limit is fine.
	require.NoError(t, os.Truncate(filepath.Join(dir, "actions", "a.sh"), MaxEntryPointSize))
	require.NoError(t, os.Remove(filepath.Join(dir, "rules", "r.yaml")))
	require.Empty(t, validateWithin(t, dir))
}
