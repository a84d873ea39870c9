package runtimes

import (
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/rules"
)

// pythonCompat is attune's own st2common compatibility module and the wrapper that runs a
// StackStorm-style Action class; written once per content under the work directory.
//
//go:embed python_compat
var pythonCompat embed.FS

// st2ShellParams are the runner parameters of StackStorm's shell runners: never passed to a
// script as arguments.
var st2ShellParams = []string{"cmd", "cwd", "env", "timeout", "kwarg_op", "sudo", "sudo_password"}

// cmdTemplate matches one {{ … }} of a local-shell-cmd's cmd (a "}}" inside quotes ends it
// too: cmd templates are short); its group, a leading name.
var cmdTemplate = regexp.MustCompile(`\{\{\s*([A-Za-z_][A-Za-z0-9_]*)?.*?\}\}`)

// st2Runner runs actions on StackStorm's runners local-shell-cmd, local-shell-script and
// python-script (kind, one of the attune.Runtime* names), each as one child process.
type st2Runner struct {
	cfg     Config
	entries *entryPoints
	kind    string
	shell   *interpreter
	python  *interpreter
	venvs   *venvs

	compatOnce sync.Mutex
	compatDir  string
}

// invocation is how one run is started: argv, stdin, working directory.
type invocation struct {
	argv  []string
	stdin []byte
	dir   string
	// datastore, when set, is the action_service channel: its child ends become fds 3 and 4.
	datastore *datastoreChannel
}

// Run starts the action's process as kind says, waits for it, its timeout or ctx, and adds
// StackStorm's result shape as the Result's Data.
func (r *st2Runner) Run(ctx context.Context, req Request) (Result, error) {
	start := time.Now()
	if ctx.Err() != nil {
		return cancelled(ctx, time.Since(start)), nil
	}
	prepFailed := func(err error) (Result, error) {
		err = fmt.Errorf("run action %q: %w", req.Action.Ref, err)
		return failure(oneLine(err.Error()), time.Since(start)), err
	}
	req, err := st2RunnerParams(req)
	if err != nil {
		return failure(oneLine(err.Error()), time.Since(start)), nil
	}
	var inv invocation
	var resultFile string
	switch r.kind {
	case attune.RuntimeShellCmd:
		inv, err = r.shellCmd(ctx, req)
	case attune.RuntimeShellScript:
		inv, err = r.shellScript(ctx, req)
	default:
		inv, resultFile, err = r.pythonScript(ctx, req)
		if resultFile != "" {
			defer os.RemoveAll(filepath.Dir(resultFile))
		}
		if inv.datastore != nil {
			go inv.datastore.serve(ctx, req.Datastore)
			defer inv.datastore.close()
		}
	}
	var bad *badParams
	switch {
	case errors.As(err, &bad):
		return failure(oneLine(err.Error()), time.Since(start)), nil
	case err != nil:
		if ctx.Err() != nil {
			return cancelled(ctx, time.Since(start)), nil
		}
		return prepFailed(err)
	}
	if resultFile != "" {
		req.Env = maps.Clone(req.Env)
		if req.Env == nil {
			req.Env = map[string]string{}
		}
		req.Env["ATTUNE_ST2_RESULT_FILE"] = resultFile
	}
	env, err := environ(req)
	if err != nil {
		return prepFailed(err)
	}
	req.Action.OutputFormat = attune.OutputText // StackStorm's shape below, not attune's parsing
	var extra []*os.File
	if inv.datastore != nil {
		extra = inv.datastore.childEnds
	}
	res, err := runChild(ctx, r.cfg, req, inv.argv, inv.dir, env, inv.stdin, extra...)
	if err != nil {
		return prepFailed(err)
	}
	if r.kind == attune.RuntimePythonScript {
		pythonResult(&res, resultFile, r.cfg.OutputCap)
	} else {
		res.Data = shellResult(res)
	}
	res.Duration = time.Since(start)
	return res, nil
}

// badParams is a parameter problem that fails the run without being an error of the worker.
type badParams struct{ msg string }

func (b *badParams) Error() string { return b.msg }

// st2RunnerParams applies the runner parameters timeout and env to req.
func st2RunnerParams(req Request) (Request, error) {
	p := req.Parameters
	if t, ok := p["timeout"].(float64); ok && t > 0 && t <= math.MaxInt32 {
		req.Timeout = time.Duration(t) * time.Second
	}
	if raw, ok := p["env"]; ok && raw != nil {
		env, ok := raw.(map[string]any)
		if !ok {
			return req, fmt.Errorf("parameter env must be an object of NAME: value, found %T", raw)
		}
		req.ParamEnv = make(map[string]string, len(env))
		for _, k := range slices.Sorted(maps.Keys(env)) {
			if !shellIdentifier.MatchString(k) || strings.HasPrefix(k, "ATTUNE_") {
				return req, fmt.Errorf("parameter env: %q is not a variable an action may set (letters, digits and _, not ATTUNE_*)", k)
			}
			v := renderValue(env[k])
			if strings.ContainsRune(v, 0) {
				return req, fmt.Errorf("parameter env: the value of %q holds a NUL byte", k)
			}
			req.ParamEnv[k] = v
		}
	}
	return req, nil
}

// st2PacksDir is where StackStorm keeps packs; attune workers have no copy of them.
const st2PacksDir = "/opt/stackstorm/packs/"

// workDir returns the cwd parameter when given, else dflt. StackStorm's "current pack dir"
// (/opt/stackstorm/packs/<pack>, the cwd default of many Exchange actions), when it does not
// exist on this worker, is the action's own directory, where its entry point and lib/ are.
func workDir(req Request, dflt string) (string, error) {
	cwd, _ := req.Parameters["cwd"].(string)
	if cwd == "" {
		return dflt, nil
	}
	if !filepath.IsAbs(cwd) {
		return "", &badParams{fmt.Sprintf("parameter cwd %q must be an absolute path", cwd)}
	}
	if strings.HasPrefix(filepath.Clean(cwd)+"/", st2PacksDir+req.Action.PackRef+"/") {
		if _, err := os.Stat(cwd); errors.Is(err, os.ErrNotExist) {
			return dflt, nil
		}
	}
	return cwd, nil
}

// st2Python reports whether an entry point's #! line names one of StackStorm's own pythons
// (/opt/stackstorm/st2/bin/python, /opt/stackstorm/virtualenvs/<pack>/bin/python), which
// attune workers do not have.
func st2Python(content []byte) bool {
	line, _, _ := strings.Cut(string(content), "\n")
	interp, _, _ := strings.Cut(strings.TrimSpace(strings.TrimPrefix(line, "#!")), " ")
	return strings.HasPrefix(line, "#!") && strings.HasPrefix(interp, "/opt/stackstorm/") &&
		strings.HasPrefix(filepath.Base(interp), "python")
}

// shellCmd renders the cmd parameter, each {{ name }} filled with the parameter's value quoted
// for the shell, and gives it to the shell on stdin: neither the command nor any value it holds
// (a secret's) is in argv or the environment.
func (r *st2Runner) shellCmd(ctx context.Context, req Request) (invocation, error) {
	text, ok := req.Parameters["cmd"].(string)
	if !ok || strings.TrimSpace(text) == "" {
		return invocation{}, &badParams{"parameter cmd is missing: a local-shell-cmd action runs its cmd"}
	}
	params := maps.Clone(req.Parameters)
	for name := range req.Action.Parameters { // declared but not given: null, as Jinja reads them
		if _, ok := params[name]; !ok {
			params[name] = nil
		}
	}
	rendered, err := RenderCmd(text, params)
	if err != nil {
		return invocation{}, &badParams{err.Error()}
	}
	shell, err := r.shell.resolve(ctx)
	if err != nil {
		return invocation{}, err
	}
	dir, err := workDir(req, os.TempDir())
	if err != nil {
		return invocation{}, err
	}
	// The group is read whole before it runs, so a command reading stdin sees /dev/null rather
	// than the rest of the script.
	script := "{\n" + rendered + "\n} </dev/null\n"
	return invocation{argv: []string{shell}, stdin: []byte(script), dir: dir}, nil
}

// RenderCmd fills each {{ … }} in a local-shell-cmd's cmd with its value quoted for a POSIX
// shell: a value is always one word and never runs as shell. A template is a parameter name
// or an expression over the parameters with StackStorm's filters ({{ host | regex_replace(…)
// }}; see rules.RenderDefault). Strings are as given, numbers
// and booleans as Python prints them (5, 2.5, True), null and missing parameters as the empty
// string, objects and arrays as JSON. {% %} is an error.
func RenderCmd(cmd string, params map[string]any) (string, error) {
	if strings.Contains(cmd, "{%") {
		return "", errors.New("cmd holds {% … %}, which attune does not render: it fills only {{ expression }} templates")
	}
	var bad error
	out := cmdTemplate.ReplaceAllStringFunc(cmd, func(m string) string {
		if bad != nil {
			return m
		}
		sub := cmdTemplate.FindStringSubmatch(m)
		inner := strings.TrimSpace(m[2 : len(m)-2])
		if sub[1] != "" && inner == sub[1] && sub[1] != "cmd" {
			return shellQuote(renderValue(params[sub[1]]))
		}
		vals := map[string]any{}
		for k, v := range params {
			if k != "cmd" && k != rules.RootConfigContext && k != rules.RootActionContext {
				vals[k] = v
			}
		}
		v, err := rules.RenderDefault("cmd", m, vals)
		if err != nil {
			bad = fmt.Errorf("cmd template %s: %w", m, err)
			return m
		}
		return shellQuote(renderValue(v))
	})
	if bad != nil {
		return "", bad
	}
	return out, nil
}

// renderValue is a parameter value as text, as StackStorm's Jinja would print it.
func renderValue(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case bool:
		if v {
			return "True"
		}
		return "False"
	case float64:
		if v == math.Trunc(v) && math.Abs(v) < 1e15 {
			return strconv.FormatInt(int64(v), 10)
		}
		return strconv.FormatFloat(v, 'g', -1, 64)
	default:
		b, err := compactJSON(v)
		if err != nil {
			return fmt.Sprint(v)
		}
		return string(b)
	}
}

// packPython is the python an action of the pack runs with: the pack's virtualenv when the pack
// has requirements (with those it lacks), else the worker's python.
func (r *st2Runner) packPython(ctx context.Context, req Request) (string, []Requirement, error) {
	if strings.TrimSpace(req.PackRequirements) != "" {
		venv, err := r.venvs.get(ctx, req.Action.PackRef, req.PackRequirements)
		if err != nil {
			return "", nil, err
		}
		return venv.Python, venv.Missing, nil
	}
	python, err := r.python.resolve(ctx)
	return python, nil, err
}

// shellScript runs the entry point with StackStorm's arguments: --name=value (kwarg_op) for
// each parameter without a position, then the positional ones in order. Secret parameters are
// never arguments: they are written to stdin, as one document in the action's format.
func (r *st2Runner) shellScript(ctx context.Context, req Request) (invocation, error) {
	file, err := r.entries.materialise(req.Action)
	if err != nil {
		return invocation{}, err
	}
	argv := []string{file}
	if st2Python(req.Action.EntryContent) { // the pack's virtualenv, or the worker's python
		python, _, err := r.packPython(ctx, req)
		if err != nil {
			return invocation{}, err
		}
		argv = []string{python, file}
	} else if !strings.HasPrefix(string(req.Action.EntryContent), "#!") {
		shell, err := r.shell.resolve(ctx)
		if err != nil {
			return invocation{}, err
		}
		argv = []string{shell, file}
	}
	args, secrets := ScriptArgs(req.Action.Parameters, req.Parameters)
	var stdin []byte
	if len(secrets) > 0 {
		if stdin, err = encodeParams(req.ParameterFormat, secrets); err != nil {
			return invocation{}, &badParams{err.Error()}
		}
	}
	dir, err := workDir(req, filepath.Dir(file))
	if err != nil {
		return invocation{}, err
	}
	return invocation{argv: append(argv, args...), stdin: stdin, dir: dir}, nil
}

// ScriptArgs returns a local-shell-script's arguments for params, as StackStorm builds them,
// and the secret parameters, which are left out of the arguments. Named parameters come first,
// sorted: `<kwarg_op>name=value` (kwarg_op defaults to --), a bare `--name` for true, nothing
// for false, null or "". Then positional ones by position, a missing one as "": booleans are 1
// or 0, arrays comma-joined, objects JSON. Runner parameters (cmd, cwd, env, kwarg_op, sudo,
// timeout) are not arguments.
func ScriptArgs(schema attune.ParamSchema, params map[string]any) (args []string, secrets map[string]any) {
	kwargOp := "--"
	if op, ok := params["kwarg_op"].(string); ok {
		kwargOp = op
	}
	positional := map[int]string{}
	maxPos := -1
	for _, name := range slices.Sorted(maps.Keys(params)) {
		v := params[name]
		spec := schema[name]
		switch {
		case slices.Contains(st2ShellParams, name):
			continue
		case spec.Secret:
			if secrets == nil {
				secrets = map[string]any{}
			}
			secrets[name] = v
			continue
		case spec.Position != nil:
			positional[*spec.Position] = positionalValue(v)
			maxPos = max(maxPos, *spec.Position)
			continue
		}
		switch v := v.(type) {
		case nil:
		case bool:
			if v {
				args = append(args, kwargOp+name)
			}
		case string:
			if v != "" {
				args = append(args, kwargOp+name+"="+v)
			}
		default:
			args = append(args, kwargOp+name+"="+renderValue(v))
		}
	}
	for _, name := range slices.Sorted(maps.Keys(schema)) { // declared positions with no value
		if p := schema[name].Position; p != nil && !schema[name].Secret {
			maxPos = max(maxPos, *p)
		}
	}
	for i := 0; i <= maxPos; i++ {
		args = append(args, positional[i])
	}
	return args, secrets
}

// positionalValue is a positional argument as StackStorm serialises it.
func positionalValue(v any) string {
	switch v := v.(type) {
	case bool:
		if v {
			return "1"
		}
		return "0"
	case []any:
		parts := make([]string, len(v))
		for i, e := range v {
			parts[i] = renderValue(e)
		}
		return strings.Join(parts, ",")
	default:
		return renderValue(v)
	}
}

// shellResult is StackStorm's local runner result: stdout and stderr with their last newline
// stripped, each parsed as JSON when it is JSON, return_code, succeeded and failed.
func shellResult(res Result) map[string]any {
	return map[string]any{
		"stdout":      st2Output(res.Stdout),
		"stderr":      st2Output(res.Stderr),
		"return_code": res.ExitCode,
		"succeeded":   res.Status == attune.StatusCompleted,
		"failed":      res.Status != attune.StatusCompleted,
	}
}

// st2Output strips one final "\n", "\r\n" or "\r" and parses what is left as JSON when it is.
func st2Output(s string) any {
	s = strings.TrimSuffix(s, "\n")
	s = strings.TrimSuffix(s, "\r")
	var v any
	if strings.TrimSpace(s) != "" && json.Unmarshal([]byte(s), &v) == nil {
		return v
	}
	return s
}

// pythonScript runs the wrapper of the compatibility module on the entry point, with
// {"parameters", "config"} on stdin and a private file for the result.
func (r *st2Runner) pythonScript(ctx context.Context, req Request) (invocation, string, error) {
	file, err := r.entries.materialise(req.Action)
	if err != nil {
		return invocation{}, "", err
	}
	compat, err := r.compat()
	if err != nil {
		return invocation{}, "", err
	}
	python, missing, err := r.packPython(ctx, req)
	if err != nil {
		return invocation{}, "", err
	}
	config := req.PackConfig
	if config == nil {
		config = map[string]any{}
	}
	params := req.Parameters
	if params == nil {
		params = map[string]any{}
	}
	doc := map[string]any{"parameters": params, "config": config, "pack": req.Action.PackRef}
	if missing != nil {
		doc["missing_requirements"] = missing
	}
	if req.Datastore != nil {
		doc["datastore_fds"] = []int{3, 4}
	}
	stdin, err := compactJSON(doc)
	if err != nil {
		return invocation{}, "", &badParams{"parameters cannot be delivered as json: " + err.Error()}
	}
	resDir, err := os.MkdirTemp(r.cfg.WorkDir, "result-*")
	if err != nil {
		return invocation{}, "", fmt.Errorf("create result directory: %w", err)
	}
	var ds *datastoreChannel
	if req.Datastore != nil {
		if ds, err = openDatastoreChannel(); err != nil {
			_ = os.RemoveAll(resDir)
			return invocation{}, "", err
		}
	}
	inv := invocation{
		argv:      []string{python, "-u", filepath.Join(compat, "attune_st2_wrapper.py"), file},
		stdin:     append(stdin, '\n'),
		dir:       filepath.Dir(file),
		datastore: ds,
	}
	return inv, filepath.Join(resDir, "result.json"), nil
}

// compat writes the compatibility module under the work directory, in a directory named by its
// content, once, and returns that directory.
func (r *st2Runner) compat() (string, error) {
	r.compatOnce.Lock()
	defer r.compatOnce.Unlock()
	if r.compatDir != "" {
		return r.compatDir, nil
	}
	h := sha256.New()
	var files []string
	err := fs.WalkDir(pythonCompat, "python_compat", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := pythonCompat.ReadFile(p)
		if err != nil {
			return err
		}
		files = append(files, p)
		fmt.Fprintf(h, "%s\x00%d\x00", p, len(b))
		h.Write(b)
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("read the python compatibility module: %w", err)
	}
	dir := filepath.Join(r.cfg.WorkDir, "st2compat-"+hex.EncodeToString(h.Sum(nil))[:16])
	for _, p := range files {
		b, _ := pythonCompat.ReadFile(p)
		dst := filepath.Join(dir, filepath.FromSlash(strings.TrimPrefix(p, "python_compat/")))
		if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
			return "", fmt.Errorf("write the python compatibility module: %w", err)
		}
		if err := writeFileAtomic(dst, b, 0o400); err != nil {
			return "", fmt.Errorf("write the python compatibility module: %w", err)
		}
	}
	r.compatDir = dir
	return dir, nil
}

// pythonResult reads the wrapper's result file into res: Data becomes StackStorm's python
// runner result {result, stdout, stderr, exit_code}, and a run() that returned (False, value)
// fails.
func pythonResult(res *Result, file string, limit int) {
	var doc struct {
		OK     bool `json:"ok"`
		Result any  `json:"result"`
		Raised bool `json:"raised"`
	}
	found := false
	if f, err := os.Open(file); err == nil {
		b, rerr := io.ReadAll(io.LimitReader(f, int64(limit)+1))
		_ = f.Close()
		switch {
		case rerr != nil:
		case len(b) > limit:
			if res.Status == attune.StatusCompleted {
				res.Status, res.Error = attune.StatusFailed, fmt.Sprintf("run()'s return value is larger than %d bytes", limit)
			}
		default:
			found = json.Unmarshal(b, &doc) == nil
		}
	}
	if found && !doc.OK && !doc.Raised && res.Status == attune.StatusFailed {
		res.Error = "run() returned (False, result)"
	}
	if res.Status == attune.StatusCompleted && !found {
		res.Status, res.Error = attune.StatusFailed, "the action exited without a result: it must run through run(), not exit on its own"
	}
	res.Data = map[string]any{
		"result":    doc.Result,
		"stdout":    res.Stdout,
		"stderr":    res.Stderr,
		"exit_code": res.ExitCode,
	}
}

// contentSum names the directory of an action's entry point: the hash of its content and of
// the files it needs beside it (Action.Files), so two actions share a directory only when all
// of them are equal.
func contentSum(a attune.Action) [sha256.Size]byte {
	if len(a.Files) == 0 {
		return sha256.Sum256(a.EntryContent)
	}
	h := sha256.New()
	h.Write(a.EntryContent)
	for _, name := range slices.Sorted(maps.Keys(a.Files)) {
		fmt.Fprintf(h, "\x00%s\x00%d\x00", name, len(a.Files[name]))
		h.Write(a.Files[name])
	}
	var sum [sha256.Size]byte
	copy(sum[:], h.Sum(nil))
	return sum
}

// writeFiles writes a's Files under dir, read-only, refusing a path that would leave dir.
func writeFiles(dir string, a attune.Action) error {
	for _, name := range slices.Sorted(maps.Keys(a.Files)) {
		if !fs.ValidPath(name) || strings.Contains(name, `\`) {
			return fmt.Errorf("action %q: file %q is not a relative path: %w", a.Ref, name, attune.ErrInvalid)
		}
		dst := filepath.Join(dir, filepath.FromSlash(name))
		if existing, err := os.ReadFile(dst); err == nil && string(existing) == string(a.Files[name]) {
			continue
		}
		if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
			return fmt.Errorf("action %q: create directory for %s: %w", a.Ref, name, err)
		}
		if err := writeFileAtomic(dst, a.Files[name], 0o400); err != nil {
			return fmt.Errorf("action %q: write %s: %w", a.Ref, name, err)
		}
	}
	return nil
}
