package packs

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/internal/yamlsrc"
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
	p.Dependencies = l.readDependencies(s, p.Ref)
	return p
}

// readDependencies reads StackStorm's dependencies: pack refs, each maybe with =version, or a
// git URL such as https://github.com/StackStorm-Exchange/stackstorm-foo.git=1.0 (pack foo).
// A dependency the loader does not know gets a warning: registration checks it.
func (l *loader) readDependencies(s scope, self string) []string {
	list, ok := s.list("dependencies")
	if !ok {
		return nil
	}
	var out []string
	for i, v := range list {
		raw, isString := v.(string)
		ref := dependencyRef(raw)
		if !isString || !packRefPattern.MatchString(ref) {
			s.errorf("dependencies", "dependencies[%d] %q must be a pack ref, ref=version or a git URL of a pack", i, clip(fmt.Sprint(v)))
			continue
		}
		if ref == self || slices.Contains(out, ref) {
			continue
		}
		out = append(out, ref)
		if _, known := l.others[ref]; !known {
			l.warnAt(at{s, "dependencies"}, "not checked: pack %s (a dependency) is not loaded; register it before this pack", ref)
		}
	}
	return out
}

// dependencyRef is the pack ref of one StackStorm dependency.
func dependencyRef(dep string) string {
	if i := strings.LastIndex(dep, "="); i > 0 {
		dep = dep[:i]
	}
	dep = strings.TrimSuffix(strings.TrimSuffix(dep, "/"), ".git")
	if i := strings.LastIndexAny(dep, "/:"); i >= 0 {
		dep = dep[i+1:]
		dep = strings.TrimPrefix(dep, "stackstorm-")
	}
	return dep
}

// readVersion reads pack.yaml's required semantic version.
func (l *loader) readVersion(s scope) string {
	v, isString := s.m["version"].(string)
	switch {
	case !s.has("version"):
		s.errorf("", "pack.yaml needs a version: a semantic version like 1.0.0")
	case !isString:
		s.errorf("version", "version must be a semantic version like 1.0.0, quoted when in doubt; YAML read %s", yamlsrc.Describe(s.m["version"]))
	case !semverPattern.MatchString(v):
		s.errorf("version", "version %q is not a semantic version like 1.0.0", clip(v))
	default:
		return v
	}
	return ""
}

// InDependencyOrder returns ps ordered so that each pack comes after the packs among ps it
// depends on, keeping the given order otherwise. Dependencies outside ps, and cycles, are left
// to registration to report.
func InDependencyOrder(ps []*attune.Pack) []*attune.Pack {
	byRef := map[string]*attune.Pack{}
	for _, p := range ps {
		byRef[p.Ref] = p
	}
	out := make([]*attune.Pack, 0, len(ps))
	state := map[*attune.Pack]int{} // 1 visiting, 2 done
	var visit func(p *attune.Pack)
	visit = func(p *attune.Pack) {
		if state[p] != 0 {
			return // done, or a cycle: registration names the missing pack
		}
		state[p] = 1
		for _, dep := range p.Dependencies {
			if d, ok := byRef[dep]; ok {
				visit(d)
			}
		}
		state[p] = 2
		out = append(out, p)
	}
	for _, p := range ps {
		visit(p)
	}
	return out
}
