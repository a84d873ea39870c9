package packs

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/attune-run/attune"
)

// Load reads the pack rooted at dir in fsys: pack.yaml, actions/*.yaml with the entry point files
// they name (whose content goes into Action.EntryContent), triggers/*.yaml and rules/*.yaml. now
// is used to reject datetime timers in the past. Problems name files by their path in fsys, e.g.
// "dir/rules/x.yaml".
//
// When the pack has problems, Load returns a nil pack and [Errors] listing every problem found.
// Other failures, such as dir not existing, are returned as plain errors.
//
// A rule's refs into the core pack are checked against the core pack built into the binary;
// refs into other packs are left to registration (see [ValidateDir]).
func Load(fsys fs.FS, dir string, now time.Time) (*attune.Pack, error) {
	p, _, err := load(fsys, dir, now, func(rel string) string { return path.Join(dir, rel) }, builtinPacks())
	return p, err
}

// LoadDir reads the pack in the directory dir on disk, like [Load] with os.DirFS(dir), reading
// only regular files that are inside dir once symlinks are followed. File names in problems
// start with dir as given, e.g. "mypack/rules/x.yaml:7", so a user can open them from where they
// ran the command.
func LoadDir(dir string, now time.Time) (*attune.Pack, error) {
	p, _, err := loadDir(nil, dir, now)
	return p, err
}

// LoadDirContext is [LoadDir] that stops between files once ctx is done, returning ctx's error:
// for commands a user may interrupt.
func LoadDirContext(ctx context.Context, dir string, now time.Time) (*attune.Pack, error) {
	p, _, err := loadDir(ctx, dir, now)
	return p, err
}

// ValidateDir is [LoadDir] that also returns warnings: what could not be checked without a
// database, such as a rule's ref into a pack other than this one and core ("not checked: pack
// x is not loaded"). Warnings never make a pack invalid; they are returned with the pack or with
// its [Errors]. Loading stops between files once ctx is done, returning ctx's error.
func ValidateDir(ctx context.Context, dir string, now time.Time) (*attune.Pack, []Problem, error) {
	return loadDir(ctx, dir, now)
}

// loadDir is ValidateDir; a nil ctx is never done.
func loadDir(ctx context.Context, dir string, now time.Time) (*attune.Pack, []Problem, error) {
	if _, err := os.Stat(dir); err != nil {
		return nil, nil, fmt.Errorf("load pack %s: %w", dir, err)
	}
	realRoot, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("load pack %s: %w", dir, err)
	}
	l := &loader{ctx: ctx, fsys: os.DirFS(dir), dir: ".", root: dir, realRoot: realRoot, display: func(rel string) string {
		return filepath.Join(dir, filepath.FromSlash(rel))
	}}
	return l.load(now, builtinPacks())
}

// loader holds the state of one load.
type loader struct {
	ctx      context.Context // nil: never done
	fsys     fs.FS
	dir      string
	root     string // the pack directory on disk, or "" for a pack in fsys only
	realRoot string // root with symlinks followed: files must resolve inside it
	now      time.Time
	display  func(rel string) string // rel is slash-separated, relative to dir
	probs    problems
	warns    problems
	pack     *attune.Pack
	defined  map[string][]definition // kind + " " + name -> every file defining it
	others   map[string]*attune.Pack // packs a rule's refs into another pack are checked against
	lib      map[string][]byte       // actions/lib/**/*.py, read once for python-script actions
	libRead  bool
	flows    []parsedWorkflow // orquesta actions' workflows, checked once every action is read
}

// definition is where a component ref was defined.
type definition struct {
	file      string
	line, col int
}

// load reads the pack at dir in fsys, which is not on disk; see Load. display names files in
// problems. others are the packs that refs into other packs are checked against; may be nil.
func load(fsys fs.FS, dir string, now time.Time, display func(string) string, others map[string]*attune.Pack) (*attune.Pack, []Problem, error) {
	l := &loader{fsys: fsys, dir: dir, display: display}
	return l.load(now, others)
}

// load reads the pack at l.dir in l.fsys; see Load. others are the packs that refs into other
// packs are checked against; may be nil.
func (l *loader) load(now time.Time, others map[string]*attune.Pack) (*attune.Pack, []Problem, error) {
	info, err := fs.Stat(l.fsys, l.dir)
	if err != nil {
		return nil, nil, fmt.Errorf("load pack %s: %w", l.display("."), err)
	}
	if !info.IsDir() {
		return nil, nil, fmt.Errorf("load pack %s: not a directory", l.display("."))
	}
	if l.stopped() {
		return nil, nil, l.ctx.Err()
	}
	l.now, l.defined, l.others = now, map[string][]definition{}, others
	l.pack = l.readPack()
	l.pack.ConfigSchema = l.readConfigSchema()
	for _, file := range l.yamlFiles("triggers") {
		if l.stopped() {
			return nil, nil, l.ctx.Err()
		}
		if t, ok := l.readTrigger(file); ok {
			l.pack.Triggers = append(l.pack.Triggers, t)
		}
	}
	for _, file := range l.yamlFiles("actions") {
		if l.stopped() {
			return nil, nil, l.ctx.Err()
		}
		if a, ok := l.readAction(file); ok {
			l.pack.Actions = append(l.pack.Actions, a)
		}
	}
	l.checkWorkflows()
	l.readPolicies()
	l.readRequirements()
	l.warnUnreadDirs()
	for _, file := range l.yamlFiles("rules") {
		if l.stopped() {
			return nil, nil, l.ctx.Err()
		}
		if r, ok := l.readRule(file); ok {
			l.pack.Rules = append(l.pack.Rules, r)
		}
	}
	l.checkDuplicates()
	var warnings []Problem
	if w := l.warns.err(); w != nil {
		warnings = w.(Errors)
	}
	if err := l.probs.err(); err != nil {
		return nil, warnings, err
	}
	return l.pack, warnings, nil
}

// stopped reports whether the load's context is done.
func (l *loader) stopped() bool { return l.ctx != nil && l.ctx.Err() != nil }

// yamlFiles lists the *.yaml and *.yml files directly under sub (slash-separated, relative to the
// pack), skipping hidden ones such as editor lock files. A missing directory has none.
func (l *loader) yamlFiles(sub string) []string {
	entries, err := fs.ReadDir(l.fsys, path.Join(l.dir, sub))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		l.probs.add(l.display(sub), 0, 0, "cannot read directory: %v", err)
		return nil
	}
	var files []string
	for _, e := range entries {
		ext := path.Ext(e.Name())
		if !e.IsDir() && !strings.HasPrefix(e.Name(), ".") && (ext == ".yaml" || ext == ".yml") {
			files = append(files, path.Join(sub, e.Name()))
		}
	}
	return files
}

// parse reads and parses the pack file rel.
func (l *loader) parse(rel string) (scope, bool) {
	data, err := l.readFile(rel, MaxYAMLFileSize, "a pack YAML file")
	var r *refusedError
	switch {
	case errors.As(err, &r):
		l.probs.add(l.display(rel), 0, 0, "%v", err)
		return scope{}, false
	case err != nil:
		l.probs.add(l.display(rel), 0, 0, "cannot read file: %v", err)
		return scope{}, false
	}
	return parseYAML(l.display(rel), data, &l.probs)
}

// define records that s's file defines the component name of kind, at the position of refKey.
func (l *loader) define(kind, name string, s scope, refKey string) {
	line, col := s.d.pos(s.keyPath(refKey))
	key := kind + " " + name
	l.defined[key] = append(l.defined[key], definition{file: s.d.file, line: line, col: col})
}

// isDefined reports whether this pack defines the component name of kind.
func (l *loader) isDefined(kind, name string) bool { return len(l.defined[kind+" "+name]) > 0 }

// checkDuplicates reports every file of a ref defined more than once, naming the other files.
func (l *loader) checkDuplicates() {
	for _, key := range sortedKeys(l.defined) {
		defs := l.defined[key]
		if len(defs) < 2 {
			continue
		}
		kind, name, _ := strings.Cut(key, " ")
		ref := l.pack.Ref + "." + name
		for i, d := range defs {
			var others []string
			for j, o := range defs {
				if j != i {
					others = append(others, fmt.Sprintf("%s:%d", o.file, o.line))
				}
			}
			l.probs.add(d.file, d.line, d.col, "duplicate %s ref %q, also defined in %s", kind, ref, strings.Join(others, ", "))
		}
	}
}
