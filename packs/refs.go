package packs

import (
	"path"
	"regexp"
	"strings"
	"unicode/utf8"
)

// namePattern is what the name part of a trigger or rule ref looks like.
var namePattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_-]*$`)

// actionNamePattern is what the name part of an action ref looks like: as StackStorm allows,
// dotted words (galaxy.install, whose ref is ansible.galaxy.install). The pack is always the part
// of a ref before its first dot.
var actionNamePattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_-]*(\.[A-Za-z0-9_][A-Za-z0-9_-]*)*$`)

// componentRef reads the ref of the action, trigger or rule in s (kind names it in messages),
// qualifies it with the pack ref and records the definition for the duplicate check. `name:` is
// accepted in place of `ref:`, and StackStorm's `pack:` must then match the pack.
func (l *loader) componentRef(s scope, kind string) (string, bool) {
	key := "ref"
	if !s.has("ref") && s.has("name") {
		key = "name"
	}
	raw := s.str(key)
	if raw == "" {
		if !s.has(key) {
			stem := strings.TrimSuffix(path.Base(s.d.file), path.Ext(s.d.file))
			s.errorf("", "%s needs a ref: its name, like ref: %s", kind, stem)
		}
		return "", false
	}
	packPart, name, qualified := strings.Cut(raw, ".")
	dotted := kind == "action"
	if !qualified || (dotted && key == "name" && packPart != l.pack.Ref) {
		// StackStorm's name: never carries the pack, and an action's may hold dots.
		packPart, name, qualified = "", raw, false
	}
	pattern, rule := namePattern, "letters, digits, _ and -, starting with a letter or _"
	if dotted {
		pattern, rule = actionNamePattern, "letters, digits, _ and -, starting with a letter or _, in words joined by dots"
	}
	ok := true
	switch {
	case qualified && (packPart == "" || name == "" || (!dotted && strings.Contains(name, "."))):
		s.errorf(key, "%s ref %q must be a name, or pack.name", kind, clip(raw))
		return "", false
	case tooLong(name, MaxNameLength):
		s.errorf(key, "%s name %q is %d characters long; names are at most %d", kind, clip(name), utf8.RuneCountInString(name), MaxNameLength)
		return "", false
	case !pattern.MatchString(name):
		s.errorf(key, "%s name %q must be %s", kind, clip(name), rule)
		ok = false
	case packPart != "" && l.pack.Ref != "" && packPart != l.pack.Ref:
		s.errorf(key, "%s ref %q names pack %q, but this is pack %q; write ref: %s", kind, clip(raw), clip(packPart), l.pack.Ref, clip(name))
		ok = false
	}
	if key == "ref" && s.has("name") {
		if other := s.str("name"); other != "" && other != name && other != raw {
			s.errorf("name", "name %q disagrees with ref %q; keep only ref", clip(other), clip(raw))
		}
	}
	if s.has("pack") {
		if p := s.str("pack"); p != "" && l.pack.Ref != "" && p != l.pack.Ref {
			s.errorf("pack", "pack %q does not match this pack's ref %q", clip(p), l.pack.Ref)
		}
	}
	l.define(kind, name, s, key)
	return l.pack.Ref + "." + name, ok
}

// qualify turns a ref a rule makes to an action or trigger into pack.name, adding this pack's ref
// to a bare name. The pack is the part before the first dot; the name, the rest, may hold dots
// when kind is action. It returns the ref, its pack and name parts, and false when ref is malformed.
func (l *loader) qualify(ref, kind string) (full, packPart, name string, ok bool) {
	packPart, name, qualified := strings.Cut(ref, ".")
	if !qualified {
		packPart, name = l.pack.Ref, ref
	}
	if packPart == "" || name == "" || strings.HasSuffix(name, ".") || strings.Contains(name, "..") ||
		(kind != "action" && strings.Contains(name, ".")) {
		return "", "", "", false
	}
	return packPart + "." + name, packPart, name, true
}
