package packs

import (
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/attune-run/attune"
)

// The core pack as built into the binary, loaded once, read only: what rules' refs into core
// are checked against.
var (
	coreOnce   sync.Once
	coreLoaded *attune.Pack
)

// builtinPacks returns the packs built into the binary, by ref, for checking refs into them.
func builtinPacks() map[string]*attune.Pack {
	coreOnce.Do(func() {
		p, _, err := load(embedded, "core", time.Now(), func(rel string) string { return path.Join("core", rel) }, nil)
		if err == nil {
			coreLoaded = p
		}
	})
	if coreLoaded == nil {
		return nil // TestCore reports why
	}
	return map[string]*attune.Pack{coreLoaded.Ref: coreLoaded}
}

// checkForeignRef checks a rule's ref (full, pack.name) to a trigger or action of another pack
// (kind says which). A pack the loader knows, such as core, must define it; any other pack is
// checked when this one is registered, so the ref gets a warning saying it was not checked.
func (l *loader) checkForeignRef(t target, kind, full, packRef string) {
	other, ok := l.others[packRef]
	if !ok {
		l.warnAt(t.refAt, "not checked: pack %s is not loaded; %s %s must be registered before this pack", clip(packRef), kind, clip(full))
		return
	}
	var refs []string
	switch kind {
	case "trigger":
		for _, tr := range other.Triggers {
			refs = append(refs, tr.Ref)
		}
	case "action":
		for _, a := range other.Actions {
			refs = append(refs, a.Ref)
		}
	}
	if slices.Contains(refs, full) {
		return
	}
	if full == "core.local_sudo" {
		t.refAt.errorf("action core.local_sudo is not supported: attune never runs actions through sudo; run a worker as the user the command needs and use core.local")
		return
	}
	slices.Sort(refs)
	t.refAt.errorf("%s %q is not defined: pack %s has no %s of that name (its %ss: %s)",
		kind, clip(full), packRef, kind, kind, strings.Join(refs, ", "))
}

// warnAt records a warning at a's key.
func (l *loader) warnAt(a at, format string, args ...any) {
	line, col := a.s.d.pos(a.s.keyPath(a.key))
	l.warns.add(a.s.d.file, line, col, format, args...)
}
