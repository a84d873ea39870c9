package runtimes

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// venvTimeout bounds making one virtualenv, pip install included.
const venvTimeout = 10 * time.Minute

// venvInfo is the file, inside a finished virtualenv, that lists what it lacks.
const venvInfo = "attune-venv.json"

// Requirement is one requirement line of a pack's requirements.txt.
type Requirement struct {
	Line int    `json:"line"` // from 1
	Text string `json:"text"` // the line, comment and surrounding space removed
	// Name is the distribution's name; "" for a line attune does not read (an option such as
	// -r or -e, a URL).
	Name string `json:"name"`
	// Reason says why the requirement is not installed, when it is not.
	Reason string `json:"reason,omitempty"`
}

// requirementName is a distribution name at the start of a requirement line (PEP 508).
var requirementName = regexp.MustCompile(`^([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*(?:$|[\[<>=!~;@ ])`)

// ParseRequirements reads requirements.txt as pip does for the lines attune understands: one
// requirement per line, # comments and blank lines skipped. A line starting with - (an option
// such as -r, -e, --index-url) or holding a URL has no Name.
func ParseRequirements(text string) []Requirement {
	var out []Requirement
	for i, line := range strings.Split(text, "\n") {
		if j := strings.Index(line, "#"); j == 0 || j > 0 && (line[j-1] == ' ' || line[j-1] == '\t') {
			line = line[:j]
		}
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		r := Requirement{Line: i + 1, Text: line}
		if m := requirementName.FindStringSubmatch(line); m != nil && !strings.Contains(line, "://") {
			r.Name = m[1]
		}
		out = append(out, r)
	}
	return out
}

// Venv is a pack's virtualenv, made from its requirements.txt.
type Venv struct {
	Dir    string
	Python string // Dir/bin/python
	// Missing are the requirements it lacks, each with its Reason.
	Missing []Requirement
}

// venvs makes the per-pack virtualenvs of python-script actions, each once per worker host:
// <WorkDir>/virtualenvs/<pack>-<hash of requirements.txt>. A virtualenv is built in a
// temporary directory and renamed into place when finished, so replicas sharing a work
// directory never see half of one, and a changed requirements.txt makes a new one.
type venvs struct {
	cfg    Config
	python *interpreter

	mu    sync.Mutex
	locks map[string]*sync.Mutex
}

// lock returns the mutex of one virtualenv directory.
func (v *venvs) lock(dir string) *sync.Mutex {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.locks == nil {
		v.locks = map[string]*sync.Mutex{}
	}
	if v.locks[dir] == nil {
		v.locks[dir] = &sync.Mutex{}
	}
	return v.locks[dir]
}

// get returns pack's virtualenv for requirements, making it when it does not exist yet: python
// -m venv --system-site-packages, then pip install -r when Config.PipIndexURL is set (with
// --without-pip otherwise, since nothing is installed into it). A requirement that could not be
// installed is listed in Missing, not an error: the action may not need it.
func (v *venvs) get(ctx context.Context, pack, requirements string) (Venv, error) {
	sum := sha256.Sum256([]byte(requirements))
	dir := filepath.Join(v.cfg.WorkDir, "virtualenvs", pack+"-"+hex.EncodeToString(sum[:])[:16])
	l := v.lock(dir)
	l.Lock()
	defer l.Unlock()
	if venv, err := readVenv(dir); err == nil {
		return venv, nil
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o700); err != nil {
		return Venv{}, fmt.Errorf("create virtualenv directory: %w", err)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), ".build-"+pack+"-*")
	if err != nil {
		return Venv{}, fmt.Errorf("create virtualenv directory: %w", err)
	}
	defer os.RemoveAll(tmp)
	missing, err := v.build(ctx, tmp, requirements)
	if err != nil {
		return Venv{}, fmt.Errorf("make the virtualenv of pack %s: %w", pack, err)
	}
	info, _ := json.Marshal(map[string]any{"missing": missing})
	if err := os.WriteFile(filepath.Join(tmp, venvInfo), info, 0o600); err != nil {
		return Venv{}, fmt.Errorf("make the virtualenv of pack %s: %w", pack, err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		if venv, rerr := readVenv(dir); rerr == nil { // another replica on this host finished first
			return venv, nil
		}
		return Venv{}, fmt.Errorf("make the virtualenv of pack %s: %w", pack, err)
	}
	v.cfg.Logger.Info("pack virtualenv made", "pack", pack, "dir", dir, "missing", len(missing))
	return readVenv(dir)
}

// readVenv reads a finished virtualenv.
func readVenv(dir string) (Venv, error) {
	b, err := os.ReadFile(filepath.Join(dir, venvInfo))
	if err != nil {
		return Venv{}, err
	}
	var info struct {
		Missing []Requirement `json:"missing"`
	}
	if err := json.Unmarshal(b, &info); err != nil {
		return Venv{}, fmt.Errorf("virtualenv %s: %s: %w", dir, venvInfo, err)
	}
	return Venv{Dir: dir, Python: filepath.Join(dir, "bin", "python"), Missing: info.Missing}, nil
}

// build makes a virtualenv in dir and returns the requirements it lacks.
func (v *venvs) build(ctx context.Context, dir, requirements string) ([]Requirement, error) {
	ctx, cancel := context.WithTimeout(ctx, venvTimeout)
	defer cancel()
	base, err := v.python.resolve(ctx)
	if err != nil {
		return nil, err
	}
	args := []string{"-m", "venv", "--system-site-packages"}
	if v.cfg.PipIndexURL == "" {
		args = append(args, "--without-pip")
	}
	if out, err := exec.CommandContext(ctx, base, append(args, dir)...).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("%s -m venv: %w: %s", base, err, lastNonEmptyLine(out, true))
	}
	reqFile := filepath.Join(dir, "requirements.txt")
	if err := os.WriteFile(reqFile, []byte(requirements), 0o600); err != nil {
		return nil, err
	}
	python := filepath.Join(dir, "bin", "python")
	reason := "no package index is configured (packs.pip_index_url), and the system's python does not have it"
	if v.cfg.PipIndexURL != "" {
		cmd := exec.CommandContext(ctx, python, "-m", "pip", "install", "--disable-pip-version-check",
			"--no-input", "--index-url", v.cfg.PipIndexURL, "-r", reqFile)
		out, err := cmd.CombinedOutput()
		if err == nil {
			reason = "pip installed the requirements, but not this one"
		} else {
			reason = "pip install -r requirements.txt failed: " + lastNonEmptyLine(out, true)
		}
	}
	return missingRequirements(ctx, python, ParseRequirements(requirements), reason)
}

// checkScript reads [[name, marker], …] on stdin and prints, one per line, "missing I" for
// each name (by index) no installed distribution has, or "skip I" when its environment marker (";
// python_version < '3'") does not hold here (read with the packaging module pip carries; a
// marker it cannot read holds).
const checkScript = `import json, sys, importlib.metadata as m
try:
    from packaging.markers import Marker
except ImportError:
    try:
        from pip._vendor.packaging.markers import Marker
    except ImportError:
        Marker = None
for i, (name, marker) in enumerate(json.load(sys.stdin)):
    if marker and Marker is not None:
        try:
            if not Marker(marker).evaluate():
                print("skip %d" % i)
                continue
        except Exception:
            pass
    try:
        m.distribution(name)
    except m.PackageNotFoundError:
        print("missing %d" % i)
`

// missingRequirements asks python which of reqs are not installed.
func missingRequirements(ctx context.Context, python string, reqs []Requirement, reason string) ([]Requirement, error) {
	pairs := [][2]string{}
	for _, r := range reqs {
		if r.Name != "" {
			_, marker, _ := strings.Cut(r.Text, ";")
			pairs = append(pairs, [2]string{r.Name, strings.TrimSpace(marker)})
		}
	}
	in, _ := json.Marshal(pairs)
	cmd := exec.CommandContext(ctx, python, "-c", checkScript)
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("check the installed requirements: %w: %s", err, lastNonEmptyLine(stderr.Bytes(), true))
	}
	absent := map[string]bool{} // by index among the named requirements
	for _, line := range strings.Split(string(out), "\n") {
		if i, ok := strings.CutPrefix(line, "missing "); ok {
			absent[i] = true
		}
	}
	var missing []Requirement
	named := 0
	for _, r := range reqs {
		switch {
		case r.Name == "":
			r.Reason = "attune reads only requirement lines (name and version), not options or URLs"
		case absent[strconv.Itoa(named)]:
			named++
			r.Reason = reason
		default:
			if r.Name != "" {
				named++
			}
			continue
		}
		missing = append(missing, r)
	}
	return missing, nil
}

// PrepareVenv makes (or finds) the virtualenv a worker on this host runs pack's python-script
// actions in, as the worker itself does before their first run, and returns it: pack
// registration calls it to list the requirements that could not be installed. A pack without
// requirements has none: the zero Venv.
func (s *Set) PrepareVenv(ctx context.Context, pack, requirements string) (Venv, error) {
	if strings.TrimSpace(requirements) == "" {
		return Venv{}, nil
	}
	return s.venvs.get(ctx, pack, requirements)
}
