package runtimes

import (
	"fmt"
	"maps"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/attune-run/attune"
)

// inherited lists the only variables an action process takes from the worker's environment, each
// with the value it gets when the worker has none ("" leaves it unset). Nothing else of the
// worker's environment reaches an action: not its ATTUNE_* configuration (the secrets key, the
// database URL), not credentials that happen to be exported where it was started.
var inherited = []struct{ name, fallback string }{
	{"PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
	{"HOME", "/"},
	{"LANG", "C.UTF-8"},
	{"TZ", ""},
}

// envNamePattern is what a variable name in an action's env must look like.
var envNamePattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// checkActionEnv reports why env, an action's declared environment, cannot be given to its
// process: a name that is not a shell identifier, a name starting with ATTUNE_ (attune's own
// context and configuration), or a value holding a NUL byte. nil when it can.
func checkActionEnv(env map[string]string) error {
	for _, name := range slices.Sorted(maps.Keys(env)) {
		switch {
		case !envNamePattern.MatchString(name):
			return fmt.Errorf("env %q: a variable name must match %s: %w", name, envNamePattern, attune.ErrInvalid)
		case strings.HasPrefix(strings.ToUpper(name), "ATTUNE_"):
			return fmt.Errorf("env %q: names starting with ATTUNE_ are attune's own; choose another name: %w", name, attune.ErrInvalid)
		case strings.ContainsRune(env[name], 0):
			return fmt.Errorf("env %q: the value holds a NUL byte: %w", name, attune.ErrInvalid)
		}
	}
	return nil
}

// environ returns the environment of req's process, built from nothing: the inherited
// variables, then the action's declared env (Action.Env), then attune's context for this run
// (Request.Env, which must be ATTUNE_* names, and ATTUNE_EXECUTION_ID, ATTUNE_ACTION,
// ATTUNE_PACK, which always win). The parameter delivery adds its own variables after these.
func environ(req Request) ([]string, error) {
	var env []string
	for _, v := range inherited {
		value, ok := os.LookupEnv(v.name)
		if !ok || value == "" {
			value = v.fallback
		}
		if value != "" {
			env = append(env, v.name+"="+value)
		}
	}
	if err := checkActionEnv(req.Action.Env); err != nil {
		return nil, fmt.Errorf("action %q: %w", req.Action.Ref, err)
	}
	for _, k := range slices.Sorted(maps.Keys(req.Action.Env)) {
		env = append(env, k+"="+req.Action.Env[k])
	}
	for _, k := range slices.Sorted(maps.Keys(req.ParamEnv)) { // checked by st2RunnerParams
		env = append(env, k+"="+req.ParamEnv[k])
	}
	for _, k := range slices.Sorted(maps.Keys(req.Env)) {
		v := req.Env[k]
		if !strings.HasPrefix(k, "ATTUNE_") || !envNamePattern.MatchString(k) || strings.ContainsRune(v, 0) {
			return nil, fmt.Errorf("context variable %q cannot be set (an ATTUNE_* name and a value without NUL bytes): %w", k, attune.ErrInvalid)
		}
		env = append(env, k+"="+v)
	}
	// Last, so that these win (exec keeps the last of duplicate names).
	return append(env,
		"ATTUNE_EXECUTION_ID="+strconv.FormatInt(req.ExecutionID, 10),
		"ATTUNE_ACTION="+req.Action.Ref,
		"ATTUNE_PACK="+req.Action.PackRef,
	), nil
}
