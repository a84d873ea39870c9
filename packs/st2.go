package packs

import (
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/rules"
)

// unsupportedRunners are StackStorm runner types attune does not run yet, with why and what to
// do instead.
var unsupportedRunners = map[string]string{
	"remote-shell-cmd":    "it runs commands over SSH, and attune has no remote runner yet; run a worker on that host and use local-shell-cmd",
	"remote-shell-script": "it runs scripts over SSH, and attune has no remote runner yet; run a worker on that host and use local-shell-script",
	"run-remote":          "it runs commands over SSH, and attune has no remote runner yet; run a worker on that host and use local-shell-cmd",
	"run-remote-script":   "it runs scripts over SSH, and attune has no remote runner yet; run a worker on that host and use local-shell-script",
	"action-chain":        "attune runs Orquesta workflows, not action chains; rewrite the chain as an orquesta workflow (see docs/workflows.md)",
	"mistral-v2":          "attune runs Orquesta workflows, and StackStorm itself dropped Mistral; rewrite it as an orquesta workflow (see docs/workflows.md)",
	"winrm-cmd":           "attune has no WinRM runner",
	"winrm-ps-cmd":        "attune has no WinRM runner",
	"winrm-ps-script":     "attune has no WinRM runner",
}

// st2ShellParams are the runner parameters of StackStorm's local shell runners, with their
// types: an action may re-declare them without a type, and they are never passed to a script as
// arguments.
var st2ShellParams = map[string]string{
	"cmd": "string", "cwd": "string", "env": "object", "timeout": "integer",
	"kwarg_op": "string", "sudo": "boolean", "sudo_password": "string",
}

// cmdTemplate matches one {{ … }} in a local-shell-cmd's cmd; cmdParam, the only form attune
// fills: a parameter name.
var (
	cmdTemplate = regexp.MustCompile(`\{\{(.*?)\}\}|\{%`)
	cmdParam    = regexp.MustCompile(`^\s*([A-Za-z_][A-Za-z0-9_]*)\s*$`)
)

// inheritedParams returns the runner parameters an action of runtime (runner_type name when
// attune does not run it) may re-declare without a type: the shell runners', local or remote,
// so that a remote action is refused for its runner alone.
func inheritedParams(runtime, name string) map[string]string {
	if runtime == attune.RuntimeShellCmd || runtime == attune.RuntimeShellScript || strings.HasPrefix(strings.ToLower(name), "remote-shell-") ||
		strings.HasPrefix(strings.ToLower(name), "run-remote") {
		return st2ShellParams
	}
	return nil
}

// checkST2Action checks an action on one of StackStorm's shell runners, and warns, at the
// parameter, where attune runs it differently from StackStorm.
func (l *loader) checkST2Action(s scope, a attune.Action) {
	if a.Runtime != attune.RuntimeShellCmd && a.Runtime != attune.RuntimeShellScript {
		return
	}
	params, _ := s.mapping("parameters")
	specAt := func(name string) at {
		if spec, ok := params.mapping(name); ok {
			return at{spec, ""}
		}
		return at{s, "parameters"}
	}
	if sudo, ok := a.Parameters["sudo"]; ok && sudo.Default == true {
		specAt("sudo").errorf("sudo is not supported: attune never runs actions through sudo; run the worker as the user the action needs")
	}
	if env, ok := a.Parameters["env"]; ok && env.Secret {
		specAt("env").errorf("env cannot be secret: secrets never go in the environment; declare each secret as its own parameter")
	}
	if a.Runtime == attune.RuntimeShellCmd {
		cmd, ok := a.Parameters["cmd"]
		if !ok {
			s.errorf("parameters", "a local-shell-cmd action needs a cmd parameter: the command to run, like cmd: {default: \"uptime\", immutable: true}")
			return
		}
		text, _ := cmd.Default.(string)
		quoted := false
		others := slices.DeleteFunc(sortedKeys(a.Parameters), func(n string) bool { return n == "cmd" })
		for _, m := range cmdTemplate.FindAllStringSubmatch(text, -1) {
			name := cmdParam.FindStringSubmatch(m[1])
			switch {
			case m[0] == "{%":
				specAt("cmd").errorf("cmd: {%% … %%} blocks are not supported yet: attune fills only {{ expression }} templates in cmd")
			case name != nil && (name[1] == "cmd" || !slices.Contains(others, name[1])):
				specAt("cmd").errorf("cmd: template %s names no parameter of this action; its parameters: %s", m[0], strings.Join(others, ", "))
			case name != nil:
				quoted = true
			default:
				refs, err := rules.CheckDefault(m[0], others)
				switch {
				case err != nil:
					specAt("cmd").errorf("cmd: %v (cmd sees the action's parameters by name, with StackStorm's filters)", err)
				case len(refs.ConfigKeys) > 0 || refs.WholeConfig:
					specAt("cmd").errorf("cmd: template %q reads config_context, which cmd does not see: declare a parameter with default \"{{ config_context.x }}\" and use that", clip(m[0]))
				default:
					quoted = true
				}
			}
		}
		if quoted {
			l.warnAt(specAt("cmd"), "differs from StackStorm: each {{ parameter }} in cmd is filled with the value shell-quoted, so a value is always one word and never runs as shell; the command goes to /bin/sh on stdin, not in argv")
		}
		if secret := secretNames(a.Parameters); len(secret) > 0 && quoted {
			l.warnAt(specAt("cmd"), "differs from StackStorm: secret parameters (%s) filled into cmd reach the shell on stdin, never in argv or the environment", strings.Join(secret, ", "))
		}
		return
	}
	positions := map[int]string{}
	for _, name := range sortedKeys(a.Parameters) {
		spec := a.Parameters[name]
		if spec.Position != nil {
			if other, dup := positions[*spec.Position]; dup {
				specAt(name).errorf("parameter %q has position %d, as %q does: positions must differ", name, *spec.Position, other)
			}
			positions[*spec.Position] = name
		}
		if spec.Secret {
			l.warnAt(specAt(name), "differs from StackStorm: secret parameter %q is not passed as an argument; the script reads it from stdin, where attune writes the secret parameters as one %s document", name, formatName(a.ParameterFormat))
		}
	}
}

// formatName is a parameter format for messages.
func formatName(f string) string {
	if f == "" {
		return attune.ParamsJSON
	}
	return f
}

// secretNames lists the secret parameters of a schema, sorted.
func secretNames(ps attune.ParamSchema) []string {
	var out []string
	for _, name := range sortedKeys(ps) {
		if ps[name].Secret {
			out = append(out, name)
		}
	}
	return out
}

// unsupportedRunner reports a StackStorm runner_type attune does not run yet; false when
// name is not one of them.
func unsupportedRunner(s scope, name string) bool {
	why, ok := unsupportedRunners[strings.ToLower(name)]
	if ok {
		s.errorf("runner_type", "runner_type %s is not supported yet: %s", name, why)
	}
	return ok
}

// readActionLib reads the *.py files under actions/lib, recursively, once per load: StackStorm's
// python actions import them (from lib.base import X). Together they may be as large as one
// entry point. nil when there is no actions/lib.
func (l *loader) readActionLib() map[string][]byte {
	if l.libRead {
		return l.lib
	}
	l.libRead = true
	root := path.Join(l.dir, "actions", "lib")
	if _, err := fs.Stat(l.fsys, root); err != nil {
		return nil
	}
	files := map[string][]byte{}
	var total int64
	err := fs.WalkDir(l.fsys, root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != root && strings.HasPrefix(d.Name(), ".") || d.Name() == "__pycache__" {
				return fs.SkipDir
			}
			return nil
		}
		if path.Ext(p) != ".py" || strings.HasPrefix(d.Name(), ".") {
			return nil
		}
		rel := strings.TrimPrefix(p, path.Join(l.dir, "actions")+"/")
		b, err := l.readFile(path.Join("actions", rel), MaxEntryPointSize, "a library file")
		if err != nil {
			l.probs.add(l.display(path.Join("actions", rel)), 0, 0, "%v", err)
			return nil
		}
		if total += int64(len(b)); total > MaxEntryPointSize {
			l.probs.add(l.display("actions/lib"), 0, 0, "actions/lib holds more than %d bytes of Python; python-script actions carry it with them, so keep it smaller", int64(MaxEntryPointSize))
			return fs.SkipAll
		}
		files[rel] = b
		return nil
	})
	if err != nil {
		l.probs.add(l.display("actions/lib"), 0, 0, "cannot read actions/lib: %v", err)
	}
	if len(files) == 0 {
		files = nil
	}
	l.lib = files
	return files
}
