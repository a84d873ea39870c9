package embedded

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// ErrBinariesNotFound is returned by Acquire when the PostgreSQL server binaries are not installed
// where it looks. Its message tells the user what to do.
//
//lint:ignore ST1005 the message is shown to users as it is: full sentences.
var ErrBinariesNotFound = errors.New("PostgreSQL server binaries (initdb, pg_ctl, postgres) not found on PATH or via pg_config --bindir. Install them (Debian/Ubuntu: apt-get install postgresql; macOS: brew install postgresql@16) or set database.url / ATTUNE_DATABASE_URL to use an existing server.")

// serverBinaries are the programs a bin directory must hold to run a cluster.
var serverBinaries = []string{"initdb", "pg_ctl", "postgres"}

// binDirPatterns are the common install locations tried when neither PATH nor pg_config lead to
// the server binaries; within one pattern the newest version wins.
var binDirPatterns = []string{
	"/usr/lib/postgresql/*/bin",          // Debian, Ubuntu
	"/usr/pgsql-*/bin",                   // RHEL, Fedora (PGDG)
	"/opt/homebrew/opt/postgresql@*/bin", // Homebrew on Apple silicon
	"/usr/local/opt/postgresql@*/bin",    // Homebrew on Intel
}

// findBinDir returns the directory holding initdb, pg_ctl and postgres: explicit when set,
// otherwise the first candidate from candidateBinDirs that holds all three.
func findBinDir(ctx context.Context, explicit string) (string, error) {
	if explicit != "" {
		dir, err := filepath.Abs(explicit)
		if err != nil {
			return "", fmt.Errorf("postgres bin dir %s: %w", explicit, err)
		}
		if !hasServerBinaries(dir) {
			return "", fmt.Errorf("postgres bin dir %s has no initdb, pg_ctl or postgres: %w", dir, ErrBinariesNotFound)
		}
		return dir, nil
	}
	for _, dir := range candidateBinDirs(ctx) {
		if hasServerBinaries(dir) {
			return dir, nil
		}
	}
	return "", ErrBinariesNotFound
}

// candidateBinDirs lists where the server binaries may be, best first: the directory of initdb on
// PATH (symlinks resolved first, so its sibling tools are found too), `pg_config --bindir`, then
// binDirPatterns.
func candidateBinDirs(ctx context.Context) []string {
	var dirs []string
	if p, err := exec.LookPath("initdb"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			dirs = append(dirs, filepath.Dir(real))
		}
		if abs, err := filepath.Abs(p); err == nil {
			dirs = append(dirs, filepath.Dir(abs))
		}
	}
	if out, err := exec.CommandContext(ctx, "pg_config", "--bindir").Output(); err == nil {
		if dir := strings.TrimSpace(string(out)); dir != "" {
			dirs = append(dirs, dir)
		}
	}
	for _, pattern := range binDirPatterns {
		matches, _ := filepath.Glob(pattern)
		dirs = append(dirs, newestFirst(matches)...)
	}
	return dirs
}

// hasServerBinaries reports whether dir holds executable initdb, pg_ctl and postgres.
func hasServerBinaries(dir string) bool {
	for _, name := range serverBinaries {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0 {
			return false
		}
	}
	return true
}

var digitsRE = regexp.MustCompile(`[0-9]+`)

// newestFirst sorts paths that differ by a version number (".../15/bin", ".../postgresql@16/bin",
// ".../9.6/bin") by that version, newest first.
func newestFirst(paths []string) []string {
	version := func(p string) []int {
		var v []int
		for _, d := range digitsRE.FindAllString(p, -1) {
			n, _ := strconv.Atoi(d)
			v = append(v, n)
		}
		return v
	}
	sorted := slices.Clone(paths)
	slices.SortStableFunc(sorted, func(a, b string) int {
		return cmp.Or(slices.Compare(version(b), version(a)), strings.Compare(a, b))
	})
	return sorted
}
