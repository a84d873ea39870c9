package packs

import (
	"errors"
	"io/fs"
	"path"
	"strings"

	"github.com/attune-run/attune"
)

// unreadDirs are the directories of a StackStorm pack attune does not read, with why.
var unreadDirs = []struct{ dir, why string }{
	{"sensors", "attune runs no pack sensors: its triggers come from timers, webhooks, attune event emit and core.inject_trigger; run the sensor's logic as a timer rule's action that emits events"},
	{"aliases", "ChatOps action aliases are not read by attune"},
}

// warnUnreadDirs warns about each directory of a StackStorm pack attune does not read.
func (l *loader) warnUnreadDirs() {
	for _, d := range unreadDirs {
		entries, err := fs.ReadDir(l.fsys, path.Join(l.dir, d.dir))
		if errors.Is(err, fs.ErrNotExist) || err == nil && len(entries) == 0 {
			continue
		}
		l.warns.add(l.display(d.dir), 0, 0, "not loaded: %s", d.why)
	}
}

// warnST2Paths warns where an action names StackStorm's own paths, which attune workers do not
// have, and says what attune uses instead.
func (l *loader) warnST2Paths(s scope, a attune.Action) {
	if a.Runtime == attune.RuntimeShellScript && len(a.EntryContent) > 0 {
		line, _, _ := strings.Cut(string(a.EntryContent), "\n")
		if interp := strings.TrimSpace(strings.TrimPrefix(line, "#!")); strings.HasPrefix(line, "#!/opt/stackstorm/") && strings.Contains(path.Base(interp), "python") {
			l.warnAt(at{s, "entry_point"}, "differs from StackStorm: %s starts with #!%s, which attune workers do not have; attune runs it with the pack's virtualenv python (requirements.txt), or the worker's python3", a.EntryPoint, interp)
		}
	}
	if cwd, ok := a.Parameters["cwd"].Default.(string); ok && strings.HasPrefix(cwd, "/opt/stackstorm/packs/") {
		at := at{s, "parameters"}
		if params, ok := s.mapping("parameters"); ok {
			if spec, ok := params.mapping("cwd"); ok {
				at.s, at.key = spec, "default"
			}
		}
		l.warnAt(at, "differs from StackStorm: attune workers keep no copy of the pack under /opt/stackstorm/packs; when that directory does not exist on the worker, cwd is the action's own directory, where its entry point and lib/ are")
	}
}
