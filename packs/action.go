package packs

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/attune-run/attune"
)

// runnerAliases maps every accepted runner_type, including StackStorm's and the predecessor's
// names, to the attune runtime that runs it.
var runnerAliases = map[string]string{
	"shell":              attune.RuntimeShell,
	"bash":               attune.RuntimeShell,
	"sh":                 attune.RuntimeShell,
	"local-shell-script": attune.RuntimeShellScript,
	"local-shell-cmd":    attune.RuntimeShellCmd,
	"python":             attune.RuntimePython,
	"python3":            attune.RuntimePython,
	"python-script":      attune.RuntimePythonScript,
	// StackStorm's names from before 1.0, which Exchange packs still use.
	"run-local":        attune.RuntimeShellCmd,
	"run-local-script": attune.RuntimeShellScript,
	"run-python":       attune.RuntimePythonScript,
	"http-runner":      attune.RuntimeHTTP,
	"noop":             attune.RuntimeNoop,
	"http":             attune.RuntimeHTTP,
	"http-request":     attune.RuntimeHTTP,
	"kv":               attune.RuntimeKV,
	"inquirer":         attune.RuntimeInquirer,
	"orquesta":         attune.RuntimeOrquesta,
	"workflow":         attune.RuntimeOrquesta,
}

// knownRunners is the list of runner_type values for messages.
const knownRunners = "shell (or bash, sh), python (or python3), noop, http (or http-request), kv, and StackStorm's local-shell-cmd (or run-local), local-shell-script (or run-local-script), python-script (or run-python), inquirer, orquesta (or workflow)"

// shellName is what a parameter name must look like for dotenv delivery: a shell variable name.
var shellName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// readAction reads one actions/*.yaml file, with its entry point.
func (l *loader) readAction(rel string) (attune.Action, bool) {
	s, ok := l.parse(rel)
	if !ok {
		return attune.Action{}, false
	}
	s.checkKeys(actionKeys)
	if !s.boolean("enabled", true) {
		s.errorf("enabled", "enabled: false would be ignored: attune has no disabled actions; remove the action, or disable the rules that run it")
	}
	ref, ok := l.componentRef(s, "action")
	runtime := readRuntime(s)
	a := attune.Action{
		Ref:               ref,
		PackRef:           l.pack.Ref,
		Label:             s.label("label"),
		Description:       s.description("description"),
		Runtime:           runtime,
		Parameters:        readSchemaInheriting(s, "parameters", inheritedParams(runtime, s.str("runner_type"))),
		OutputFormat:      s.oneOf("output_format", attune.OutputText, attune.OutputFormats...),
		ParameterFormat:   s.oneOf("parameter_format", attune.ParamsJSON, attune.ParamFormats...),
		ParameterDelivery: s.oneOf("parameter_delivery", attune.DeliveryStdin, attune.ParamDeliveries...),
	}
	if t, present := s.integer("timeout"); present {
		if t <= 0 {
			s.errorf("timeout", "timeout must be a positive number of seconds, found %d; leave it out for the default of %d", t, attune.DefaultActionTimeoutSec)
		}
		a.TimeoutSec = t
	}
	a.Retry = readRetry(s)
	a.Env = readEnv(s)
	if a.ParameterFormat == attune.ParamsDotenv {
		for _, name := range sortedKeys(a.Parameters) {
			if !shellName.MatchString(name) {
				s.errorf("parameters", "parameter %q cannot be sent as dotenv: names must be letters, digits and _, not starting with a digit", name)
			}
		}
	}
	if a.ParameterDelivery == attune.DeliveryFile {
		for _, name := range sortedKeys(a.Parameters) {
			if a.Parameters[name].Secret {
				s.errorf("parameter_delivery", "parameter %q is secret, and secrets are delivered on stdin only: a file could outlive a crashed worker; use parameter_delivery: stdin", name)
			}
		}
	}
	if a.Runtime == attune.RuntimeHTTP {
		checkHTTPParams(s, a.Parameters)
	}
	a.EntryPoint, a.EntryContent = l.readEntryPoint(s, a.Runtime)
	if a.Runtime == attune.RuntimeOrquesta {
		l.readWorkflow(s, a)
	}
	if a.Runtime == attune.RuntimePythonScript || a.Runtime == attune.RuntimeShellScript && path.Ext(a.EntryPoint) == ".py" {
		a.Files = l.readActionLib()
	}
	l.checkST2Action(s, a)
	l.checkDefaults(s, a)
	l.warnST2Paths(s, a)
	return a, ok
}

// readRuntime maps runner_type onto a runtime; shell when absent.
func readRuntime(s scope) string {
	if !s.has("runner_type") {
		return attune.RuntimeShell
	}
	name := s.str("runner_type")
	if name == "" {
		return "" // not a string, reported
	}
	rt, ok := runnerAliases[strings.ToLower(name)]
	if !ok && !unsupportedRunner(s, name) {
		s.errorf("runner_type", "unknown runner_type %q; known runtimes: %s", name, knownRunners)
	}
	return rt
}

// readEntryPoint checks entry_point against the runtime and reads the file it names under
// actions/. It returns the cleaned path and the content.
func (l *loader) readEntryPoint(s scope, runtime string) (string, []byte) {
	ep := s.str("entry_point")
	switch {
	case runtime == "":
		return ep, nil // unknown runtime, already reported
	case runtime == attune.RuntimeShellCmd:
		if ep != "" {
			s.errorf("entry_point", "a local-shell-cmd action runs its cmd parameter, with no script; remove entry_point, or use local-shell-script")
		}
		return "", nil
	case runtime == attune.RuntimeNoop || runtime == attune.RuntimeHTTP || runtime == attune.RuntimeKV ||
		runtime == attune.RuntimeInquirer:
		if s.has("entry_point") {
			s.errorf("entry_point", "runner_type %s runs in process, with no script; remove entry_point", runtime)
		}
		return "", nil
	case ep == "":
		if !s.has("entry_point") {
			s.errorf("", "a %s action needs an entry_point: the script under actions/ to run", runtime)
		}
		return "", nil
	}
	clean := path.Clean(ep)
	if strings.HasPrefix(ep, "/") || strings.Contains(ep, `\`) || !fs.ValidPath(clean) {
		s.errorf("entry_point", "entry_point %q must be a relative path to a file under actions/", ep)
		return ep, nil
	}
	rel := path.Join("actions", clean)
	content, err := l.readFile(rel, MaxEntryPointSize, "an entry point")
	var r *refusedError
	switch {
	case errors.Is(err, fs.ErrNotExist):
		s.errorf("entry_point", "entry_point %q not found: expected the file %s", ep, l.display(rel))
		return clean, nil
	case errors.Is(err, errIsDir):
		s.errorf("entry_point", "entry_point %q is a directory, not a file", ep)
		return clean, nil
	case errors.As(err, &r):
		s.errorf("entry_point", "entry_point %q: %v", ep, err)
		return clean, nil
	case err != nil:
		s.errorf("entry_point", "entry_point %q: cannot read %s: %v", ep, l.display(rel), err)
		return clean, nil
	}
	return clean, content
}

// readRetry reads an action's retry policy: {count, delay (seconds), backoff, on}.
func readRetry(s scope) *attune.RetryPolicy {
	r, ok := s.mapping("retry")
	if !ok {
		return nil
	}
	r.checkKeys(retryKeys)
	p := &attune.RetryPolicy{Backoff: r.oneOf("backoff", attune.BackoffConstant, attune.BackoffConstant, attune.BackoffExponential)}
	if n, present := r.integer("count"); present {
		if n < 0 || n > 100 {
			r.errorf("count", "retry count must be between 0 and 100, found %d", n)
		}
		p.Count = n
	}
	if d := r.number("delay"); d != nil {
		if *d < 0 {
			r.errorf("delay", "retry delay must be a non-negative number of seconds, found %v", *d)
		}
		p.Delay = time.Duration(*d * float64(time.Second))
	}
	if on, present := r.list("on"); present {
		for _, v := range on {
			st := attune.ExecutionStatus(fmt.Sprint(v))
			if !slices.Contains(attune.RetryableStatuses, st) {
				r.errorf("on", "retry on %q: must be one of failed, timeout, abandoned", v)
				continue
			}
			p.On = append(p.On, st)
		}
	}
	return p
}
