package packs

import (
	"errors"
	"io/fs"
	"path"
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
