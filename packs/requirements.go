package packs

import (
	"errors"
	"io/fs"
	"path"
	"strings"
	"unicode/utf8"

	"github.com/attune-run/attune"
)

// requirementsFile is StackStorm's list of a pack's Python dependencies, beside pack.yaml.
const requirementsFile = "requirements.txt"

// maxRequirementsSize bounds requirements.txt, stored with the pack.
const maxRequirementsSize = 1 << 20

// readRequirements reads requirements.txt into the pack, when it has one, and says in a warning
// what attune does with it: the pack's python-script actions run in a virtualenv that each
// worker makes from it (runtimes/venv.go). Lines attune does not read (options such as -r or
// -e, URLs) are warned about at their line.
func (l *loader) readRequirements() {
	rel := requirementsFile
	if _, err := fs.Stat(l.fsys, path.Join(l.dir, rel)); errors.Is(err, fs.ErrNotExist) {
		return
	}
	b, err := l.readFile(rel, maxRequirementsSize, "a requirements file")
	if err != nil {
		l.probs.add(l.display(rel), 0, 0, "%v", err)
		return
	}
	if !utf8.Valid(b) {
		l.probs.add(l.display(rel), 0, 0, "requirements.txt is not UTF-8 text")
		return
	}
	l.pack.Requirements = string(b)
	python := false
	for _, a := range l.pack.Actions {
		python = python || a.Runtime == attune.RuntimePythonScript || a.Runtime == attune.RuntimeShellScript && path.Ext(a.EntryPoint) == ".py"
	}
	if !python {
		l.warns.add(l.display(rel), 0, 0, "no action of this pack is a python-script or a python local-shell-script: requirements.txt is not used")
		return
	}
	l.warns.add(l.display(rel), 0, 0, "differs from StackStorm: each worker makes the pack's virtualenv (python3 -m venv --system-site-packages) before its first python-script run, "+
		"and pip installs these requirements into it only when packs.pip_index_url is set; otherwise they must come from the system's python packages (registration lists those missing)")
	for i, line := range strings.Split(l.pack.Requirements, "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "-") || strings.Contains(line, "://") {
			l.warns.add(l.display(rel), i+1, 1, "line %q is not installed: attune reads only requirement lines (a name and a version), not options or URLs", line)
		}
	}
}
