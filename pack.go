package attune

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Runtime names. An action names its runtime and the worker selects it by exactly this name,
// never by guessing from the entry point's file name.
const (
	RuntimeShell  = "shell"
	RuntimePython = "python"
	RuntimeNoop   = "noop"
)

// Runtimes lists the runtime names a worker can serve.
var Runtimes = []string{RuntimeShell, RuntimePython, RuntimeNoop}

// Output formats an action may declare for its stdout.
const (
	OutputText = "text"
	OutputJSON = "json"
)

// Parameter formats: how an action's parameters are written to its stdin.
const (
	ParamsJSON   = "json"
	ParamsDotenv = "dotenv"
)

// DefaultActionTimeoutSec is the timeout of an action that declares none.
const DefaultActionTimeoutSec = 300

// Pack is a named bundle of actions, triggers and rules, registered as a whole.
type Pack struct {
	Ref         string
	Label       string
	Description string
	Version     string
	Config      map[string]any // defaults exposed to templates as pack.config
	Actions     []Action
	Triggers    []Trigger
	Rules       []Rule
}

// Action is something a worker can run.
type Action struct {
	Ref          string // "pack.name"
	PackRef      string
	Label        string
	Description  string
	Runtime      string // one of Runtimes
	EntryPoint   string // file name under the pack's actions/ directory; empty for noop
	EntryContent []byte // the entry point's content, stored so any replica can run it
	Parameters   ParamSchema
	OutputFormat string // OutputText (default) or OutputJSON
	// ParameterFormat is how parameters are written to stdin: ParamsJSON (default) or ParamsDotenv.
	ParameterFormat string
	TimeoutSec      int          // 0 means DefaultActionTimeoutSec
	Retry           *RetryPolicy // nil: never retried
}

// Trigger is a kind of event.
type Trigger struct {
	Ref         string
	PackRef     string
	Label       string
	Description string
	Parameters  ParamSchema // schema of a rule's trigger_params
	Payload     ParamSchema // schema of the event payload
}

// Rule connects a trigger to an action: when an event of TriggerRef matches Criteria, the action
// runs with ActionParams rendered from the event.
type Rule struct {
	ID            int64
	Ref           string
	PackRef       string
	Label         string
	Description   string
	TriggerRef    string
	ActionRef     string
	Enabled       bool
	Criteria      json.RawMessage // nil or {} or [] matches everything
	ActionParams  map[string]any
	TriggerParams map[string]any
}

// ParamSchema is the flat, StackStorm-style parameter schema: parameter name to its spec.
type ParamSchema map[string]ParamSpec

// ParamSpec describes one parameter.
type ParamSpec struct {
	Type        string   `json:"type,omitempty" yaml:"type"`
	Description string   `json:"description,omitempty" yaml:"description"`
	Required    bool     `json:"required,omitempty" yaml:"required"`
	Default     any      `json:"default,omitempty" yaml:"default"`
	Enum        []any    `json:"enum,omitempty" yaml:"enum"`
	Secret      bool     `json:"secret,omitempty" yaml:"secret"`
	Minimum     *float64 `json:"minimum,omitempty" yaml:"minimum"`
	Maximum     *float64 `json:"maximum,omitempty" yaml:"maximum"`
	Pattern     string   `json:"pattern,omitempty" yaml:"pattern"`
}

// SplitRef splits "pack.name" into its pack and name.
func SplitRef(ref string) (pack, name string, err error) {
	pack, name, ok := strings.Cut(ref, ".")
	if !ok || pack == "" || name == "" || strings.Contains(name, ".") {
		return "", "", fmt.Errorf("%w: ref %q must look like pack.name", ErrInvalid, ref)
	}
	return pack, name, nil
}
