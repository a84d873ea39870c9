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
	// RuntimeHTTP makes one HTTP request in process (core.http_request); no child process.
	RuntimeHTTP = "http"
	// RuntimeKV reads and writes the datastore in process (core.kv_set, core.kv_get).
	RuntimeKV = "kv"
	// RuntimeShellCmd is StackStorm's local-shell-cmd: the cmd parameter, its {{ name }}
	// templates filled with shell-quoted parameter values, run by /bin/sh.
	RuntimeShellCmd = "local-shell-cmd"
	// RuntimeShellScript is StackStorm's local-shell-script: the entry point run with the
	// parameters as arguments (--name=value, and positional ones by position); secret
	// parameters on stdin, never in argv.
	RuntimeShellScript = "local-shell-script"
	// RuntimePythonScript is StackStorm's python-script: the entry point's Action subclass run
	// by attune's st2common compatibility module, its run() return value the result.
	RuntimePythonScript = "python-script"
	// RuntimeInquirer is StackStorm's inquirer (core.ask): it creates an inquiry in process and
	// leaves the execution pending until someone answers it.
	RuntimeInquirer = "inquirer"
	// RuntimeOrquesta is a workflow in StackStorm's Orquesta language (runner_type orquesta,
	// or workflow): the entry point is the workflow definition (package workflows). No worker
	// runs it, so it is not in Runtimes and `attune start` opens no queue for it: the
	// conductor advances a workflow in the transactions that end its tasks.
	RuntimeOrquesta = "orquesta"
)

// Runtimes lists the runtime names a worker can serve.
var Runtimes = []string{RuntimeShell, RuntimePython, RuntimeNoop, RuntimeHTTP, RuntimeKV,
	RuntimeShellCmd, RuntimeShellScript, RuntimePythonScript, RuntimeInquirer}

// Output formats an action may declare for its stdout.
const (
	OutputText  = "text"  // kept as stdout only
	OutputJSON  = "json"  // stdout, or failing that its last line, parsed into the result's data
	OutputYAML  = "yaml"  // stdout parsed as one YAML document into the result's data
	OutputJSONL = "jsonl" // every stdout line that parses as JSON, as an array in the result's data
)

// OutputFormats lists the output formats, the default first.
var OutputFormats = []string{OutputText, OutputJSON, OutputYAML, OutputJSONL}

// Parameter formats: how an action's parameters are written for its process.
const (
	ParamsJSON   = "json"
	ParamsDotenv = "dotenv"
	ParamsYAML   = "yaml"
)

// ParamFormats lists the parameter formats, the default first.
var ParamFormats = []string{ParamsJSON, ParamsDotenv, ParamsYAML}

// Parameter deliveries: where an action's process finds its parameters.
const (
	// DeliveryStdin writes the parameter document to the process's stdin, then closes it.
	DeliveryStdin = "stdin"
	// DeliveryFile writes it to a private (0400) temporary file named in ATTUNE_PARAMETER_FILE,
	// removed when the run ends; stdin is then empty.
	DeliveryFile = "file"
)

// ParamDeliveries lists the parameter deliveries, the default first.
var ParamDeliveries = []string{DeliveryStdin, DeliveryFile}

// DefaultActionTimeoutSec is the timeout of an action that declares none.
const DefaultActionTimeoutSec = 300

// Pack is a named bundle of actions, triggers and rules, registered as a whole.
type Pack struct {
	Ref         string
	Label       string
	Description string
	Version     string
	Config      map[string]any // defaults exposed to templates as pack.config
	// ConfigSchema is the pack's config.schema.yaml (StackStorm's flat schema shape), which the
	// effective config is checked against at registration (see packs.ApplyConfig). Not stored.
	ConfigSchema ParamSchema
	// Dependencies are the refs of the packs this one needs (StackStorm's dependencies):
	// registration refuses the pack until they are registered. Not stored.
	Dependencies []string
	// SealedConfig holds the values of the config keys ConfigSchema marks secret, sealed under
	// secrets.key; Config holds them masked ("********"). Sealed at registration, opened by the
	// worker only for a python-script action of the pack that runs.
	SealedConfig []byte
	// Requirements is the pack's requirements.txt, as written: a worker makes the pack's
	// virtualenv from it before the first python-script run (see runtimes/venv.go).
	Requirements string
	Actions      []Action
	Triggers     []Trigger
	Rules        []Rule
	Policies     []Policy // concurrency policies (policies/*.yaml)
}

// Action is something a worker can run.
type Action struct {
	Ref          string // "pack.name"
	PackRef      string
	Label        string
	Description  string
	Runtime      string // one of Runtimes
	EntryPoint   string // file name under the pack's actions/ directory; empty for noop and http
	EntryContent []byte // the entry point's content, stored so any replica can run it
	// Files are other files the entry point needs beside it, by slash-separated path relative
	// to the pack's actions/ directory: a python-script action's actions/lib/**/*.py. Stored with
	// the action and written next to the entry point.
	Files        map[string][]byte
	Parameters   ParamSchema
	OutputFormat string // one of OutputFormats; "" means OutputText
	// ParameterFormat is the format of the parameter document: one of ParamFormats; "" means
	// ParamsJSON.
	ParameterFormat string
	// ParameterDelivery is where the process finds that document: one of ParamDeliveries; ""
	// means DeliveryStdin.
	ParameterDelivery string
	TimeoutSec        int          // 0 means DefaultActionTimeoutSec
	Retry             *RetryPolicy // nil: never retried
	// Env is what the action declares for its process's environment (literal values), added
	// to PATH, HOME, LANG, TZ and attune's ATTUNE_* context. Names are shell identifiers and
	// never start with ATTUNE_.
	Env map[string]string
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
	// Position is StackStorm's: the parameter's place among a local-shell-script's positional
	// arguments, from 0; nil for a --name=value argument.
	Position *int `json:"position,omitempty" yaml:"position"`
	// Immutable parameters keep their default: a value given for one is refused.
	Immutable bool `json:"immutable,omitempty" yaml:"immutable"`
	// Items, Properties and AdditionalProperties are the nested schemas of an array or object
	// parameter, as StackStorm writes them (each nested spec in this same shape: required: true
	// on a property, secret, …); values are checked against them.
	Items                map[string]any `json:"items,omitempty" yaml:"items"`
	Properties           map[string]any `json:"properties,omitempty" yaml:"properties"`
	AdditionalProperties any            `json:"additionalProperties,omitempty" yaml:"additionalProperties"`
}

// SplitRef splits "pack.name" into its pack and name at the first dot: an action's name may
// itself hold dots, as in StackStorm (ansible.galaxy.install is action galaxy.install of pack
// ansible).
func SplitRef(ref string) (pack, name string, err error) {
	pack, name, ok := strings.Cut(ref, ".")
	if !ok || pack == "" || name == "" || strings.HasSuffix(name, ".") || strings.Contains(name, "..") {
		return "", "", fmt.Errorf("%w: ref %q must look like pack.name", ErrInvalid, ref)
	}
	return pack, name, nil
}
