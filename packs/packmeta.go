package packs

import (
	"errors"
	"io/fs"
	"path"
	"regexp"
	"unicode/utf8"

	"github.com/attune-run/attune"
)

// packRefPattern is what a pack ref looks like.
var packRefPattern = regexp.MustCompile(`^[a-z][a-z0-9_-]*$`)

// semverPattern is a semantic version x.y.z with optional pre-release and build parts.
var semverPattern = regexp.MustCompile(`^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$`)

// readPack reads pack.yaml. StackStorm's metadata (author, email, keywords, ...) is accepted and
// ignored; other unknown keys are problems (see packKeys). The returned pack
// is never nil, so the components can still be checked when pack.yaml has problems.
func (l *loader) readPack() *attune.Pack {
	p := &attune.Pack{Config: map[string]any{}}
	if _, err := fs.Stat(l.fsys, path.Join(l.dir, "pack.yaml")); errors.Is(err, fs.ErrNotExist) {
		l.probs.add(l.display("pack.yaml"), 0, 0, "missing pack.yaml: a pack directory needs one with at least ref: and version:")
		return p
	}
	s, ok := l.parse("pack.yaml")
	if !ok {
		return p
	}
	s.checkKeys(packKeys)
	// StackStorm packs may name themselves with name: alone; ref: wins when both are there.
	refKey := "ref"
	if !s.has("ref") && s.has("name") {
		refKey = "name"
	}
	switch ref := s.str(refKey); {
	case !s.has(refKey):
		s.errorf("", "pack.yaml needs a ref: the pack's short name, like ref: mypack")
	case ref == "":
		// not a string, reported
	case tooLong(ref, MaxPackRefLength):
		s.errorf(refKey, "pack %s %q is %d characters long; pack refs are at most %d", refKey, clip(ref), utf8.RuneCountInString(ref), MaxPackRefLength)
	case !packRefPattern.MatchString(ref):
		s.errorf(refKey, "pack %s %q must be lowercase letters, digits, _ and -, starting with a letter", refKey, clip(ref))
	default:
		p.Ref = ref
	}
	p.Label = s.label("label")
	p.Description = s.description("description")
	p.Version = l.readVersion(s)
	p.Config = s.object("config")
	return p
}

// readVersion reads pack.yaml's required semantic version.
func (l *loader) readVersion(s scope) string {
	v, isString := s.m["version"].(string)
	switch {
	case !s.has("version"):
		s.errorf("", "pack.yaml needs a version: a semantic version like 1.0.0")
	case !isString:
		s.errorf("version", "version must be a semantic version like 1.0.0, quoted when in doubt; YAML read %s", describe(s.m["version"]))
	case !semverPattern.MatchString(v):
		s.errorf("version", "version %q is not a semantic version like 1.0.0", clip(v))
	default:
		return v
	}
	return ""
}
