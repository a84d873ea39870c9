package main_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// attuneIn runs the binary in dir with env and returns its stdout, stderr and exit code.
func attuneIn(t *testing.T, dir string, env []string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Dir, cmd.Env = dir, env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return out.String(), errb.String(), ee.ExitCode()
	}
	require.NoError(t, err)
	return out.String(), errb.String(), 0
}

// brokenPackProblems is every problem in testdata/broken, at its file:line:col, with a part of
// its message: one of each mistake attune pack validate catches.
var brokenPackProblems = []struct{ at, msg string }{
	{"broken/actions/bad_http.yaml:5:3", `parameter "verify_ssl" means nothing to the http runtime`},                 // unknown http parameter
	{"broken/actions/bad_schema.yaml:4:1", `output_format "xml" is not one of text, json, yaml, jsonl`},              // schema: bad enum value
	{"broken/actions/bad_schema.yaml:6:11", `parameter "level" has unknown type "strin"`},                            // schema: parameter type
	{"broken/actions/bad_schema.yaml:7:28", `parameter "retries": default the string "many" is not of type integer`}, // schema: default
	{"broken/actions/no_script.yaml:3:1", `entry_point "missing.sh" not found: expected the file broken/actions/missing.sh`},
	{"broken/actions/secret_file.yaml:4:1", `parameter "token" is secret, and secrets are delivered on stdin only`},
	{"broken/rules/bad_criteria.yaml:6:5", `criteria["trigger.level"].type: unknown operator "frobnicate"`},
	{"broken/rules/bad_expression.yaml:5:3", `criteria.expression "event.payload.level == 'error' and": line 1, column 34`},
	{"broken/rules/bad_params.yaml:5:3", `action_params.message: required (action broken.notify)`},
	{"broken/rules/bad_params.yaml:6:5", `action_params.count: must be <= 10, got 50 (action broken.notify)`},
	{"broken/rules/bad_params.yaml:7:5", `action_params.colour: unknown parameter (known: count, message)`},
	{"broken/rules/bad_template.yaml:5:3", `action_params.message: template "{{ event.payload.level | }}"`},
	{"broken/rules/core_action.yaml:3:32", `trigger_params.unit: must be one of seconds, minutes, hours, days; got "fortnights"`},
	{"broken/rules/core_action.yaml:4:1", `action "core.ecko" is not defined: pack core has no action of that name (its actions: core.ask, core.echo, core.http, core.http_request, core.inject_trigger, core.kv_get, core.kv_set, core.local, core.noop, core.pause, core.sleep)`},
	{"broken/rules/other_pack.yaml:3:1", `warning: not checked: pack slack is not loaded; action slack.post_message must be registered before this pack`},
	{"broken/rules/typo_key.yaml:4:1", `unknown key "critera" in a rule; did you mean "criteria"?`}, // a typo'd key is not ignored
	{"broken/rules/unknown_refs.yaml:2:1", `trigger "core.mqtt" is not defined: pack core has no trigger of that name`},
	{"broken/rules/unknown_refs.yaml:3:1", `action "broken.nosuch" is not defined in this pack: no actions/*.yaml has ref: nosuch`},
	{"broken/triggers/bad_yaml.yaml:2:10", `invalid YAML: could not find flow mapping end token '}'`},
}

// attune pack validate lints a deliberately broken pack without a database: every mistake at
// its exact file:line:col, in file order, all at once, exit code 2. The JSON report says the
// same. attune pack register refuses the pack before touching a database.
func TestPackValidateBrokenPack(t *testing.T) {
	env := append(os.Environ(), "ATTUNE_CONFIG=", "ATTUNE_DATABASE_URL=postgres://nobody@127.0.0.1:1/none")

	out, errOut, code := attuneIn(t, "testdata", env, "pack", "validate", "broken")

	require.Equal(t, 2, code, "stdout:\n%s\nstderr:\n%s", out, errOut)
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	require.Len(t, lines, len(brokenPackProblems), out)
	for i, want := range brokenPackProblems {
		require.True(t, strings.HasPrefix(lines[i], want.at+": "+want.msg), "line %d:\n got  %s\n want %s: %s…", i+1, lines[i], want.at, want.msg)
	}
	require.Equal(t, "attune: pack broken is not valid: 18 errors\n", errOut)

	out, _, code = attuneIn(t, "testdata", env, "pack", "validate", "--json", "broken")
	require.Equal(t, 2, code)
	var r struct {
		Valid  bool `json:"valid"`
		Errors []struct {
			File, Message string
			Line, Col     int
		} `json:"errors"`
		Warnings []struct {
			File, Message string
			Line, Col     int
		} `json:"warnings"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &r), out)
	require.False(t, r.Valid)
	require.Len(t, r.Errors, 18)
	require.Len(t, r.Warnings, 1)
	require.Equal(t, filepath.Join("broken", "rules", "other_pack.yaml"), r.Warnings[0].File)
	require.Equal(t, 3, r.Warnings[0].Line)
	require.Equal(t, 1, r.Warnings[0].Col)

	// register runs the same validation first: the unreachable database is never needed.
	_, errOut, code = attuneIn(t, "testdata", env, "pack", "register", "broken")
	require.Equal(t, 2, code, errOut)
	require.Contains(t, errOut, "pack broken is not valid; nothing was registered")
	require.Contains(t, errOut, `broken/rules/core_action.yaml:4:1: action "core.ecko" is not defined`)
	require.NotContains(t, errOut, "warning:", "register checks other packs' refs against the database")
}

// A valid pack: exit 0 and a summary, warnings listed first.
func TestPackValidateValidPack(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, filepath.Join(dir, "ok"), map[string]string{
		"pack.yaml":          "ref: ok\nversion: 0.1.0\n",
		"triggers/ping.yaml": "ref: ping\n",
		"actions/call.yaml":  "ref: call\nrunner_type: http\nparameters:\n  url: {type: string, default: \"http://127.0.0.1/\"}\n",
		"rules/a.yaml":       "ref: a\ntrigger_ref: ping\naction_ref: call\ncriteria: {trigger.n: {type: gt, pattern: 3}}\n",
		"rules/b.yaml":       "ref: b\ntrigger_ref: ping\naction_ref: other.thing\n",
	})
	env := append(os.Environ(), "ATTUNE_CONFIG=")

	out, errOut, code := attuneIn(t, dir, env, "pack", "validate", "ok")

	require.Equal(t, 0, code, errOut)
	require.Equal(t, filepath.Join("ok", "rules", "b.yaml")+":3:1: warning: not checked: pack other is not loaded; action other.thing must be registered before this pack\n"+
		"pack ok is valid: 1 action, 1 trigger, 2 rules (1 warning)\n", out)

	_, errOut, code = attuneIn(t, dir, env, "pack", "validate", "missing")
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "load pack missing: stat missing: no such file or directory")
}

// A pack whose entry point is a symlink to /dev/zero, or a named pipe, is refused at once by
// attune pack validate: it used to run out of memory on the first and hang on the second.
func TestPackValidateRefusesSpecialFiles(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, filepath.Join(dir, "odd"), map[string]string{
		"pack.yaml":      "ref: odd\nversion: 0.1.0\n",
		"actions/z.yaml": "ref: z\nentry_point: z.sh\n",
		"actions/f.yaml": "ref: f\nentry_point: f.sh\n",
	})
	require.NoError(t, os.Symlink("/dev/zero", filepath.Join(dir, "odd", "actions", "z.sh")))
	require.NoError(t, syscall.Mkfifo(filepath.Join(dir, "odd", "actions", "f.sh"), 0o644))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute) // a hang fails, not a slow run
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, "pack", "validate", "odd")
	cmd.Dir, cmd.Env = dir, append(os.Environ(), "ATTUNE_CONFIG=")

	out, err := cmd.Output()

	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee, "%s", out)
	require.Equal(t, 2, ee.ExitCode(), "%s%s", out, ee.Stderr)
	require.Equal(t, filepath.Join("odd", "actions", "f.yaml")+`:2:1: entry_point "f.sh": `+filepath.Join("odd", "actions", "f.sh")+
		" is a named pipe, not a regular file; a pack holds only regular files and directories\n"+
		filepath.Join("odd", "actions", "z.yaml")+`:2:1: entry_point "z.sh": `+filepath.Join("odd", "actions", "z.sh")+
		" leads to /dev/zero, outside the pack directory; a pack reads only its own files: copy the file into the pack\n", string(out))
}

// An 8,000-character action name is a validation error at its file:line:col, quoted clipped,
// and attune pack register refuses the pack before it needs the database.
func TestPackRegisterRefusesHugeName(t *testing.T) {
	dir := t.TempDir()
	name := strings.Repeat("x", 8000)
	writeFiles(t, filepath.Join(dir, "big"), map[string]string{
		"pack.yaml":      "ref: big\nversion: 0.1.0\n",
		"actions/a.yaml": "ref: " + name + "\nrunner_type: noop\n",
	})
	env := append(os.Environ(), "ATTUNE_CONFIG=", "ATTUNE_DATABASE_URL=postgres://nobody@127.0.0.1:1/none")

	_, errOut, code := attuneIn(t, dir, env, "pack", "register", "big")

	require.Equal(t, 2, code, errOut)
	require.Contains(t, errOut, "pack big is not valid; nothing was registered")
	require.Contains(t, errOut, filepath.Join("big", "actions", "a.yaml")+`:1:1: action name "`+name[:40]+`…" is 8000 characters long; names are at most 128`)
	require.NotContains(t, errOut, name[:100])
}

// Pack configuration: templates see the pack's config defaults overridden by packs.config of
// the attune config file, merged key by key, keys' case kept; the effective config is stored on
// attune.pack.
func TestE2EPackConfigOverride(t *testing.T) {
	in := newInstance(t)
	cfgFile := filepath.Join(in.dir, "attune.yaml")
	require.NoError(t, os.WriteFile(cfgFile, []byte(`
packs:
  config:
    mon:
      greeting: bonjour
      api: {baseURL: "https://override.example"}
`), 0o644))
	in.env = append(in.env, "ATTUNE_CONFIG="+cfgFile)
	stop, logs := in.start()
	url := in.dbURL()
	dir := monPack(t, in.dir, map[string]string{"greet": `ref: greet
trigger_ref: alert
action_ref: record
action_params:
  greeting: "{{ pack.config.greeting }}, {{ pack.config.api.baseURL }} (retries {{ pack.config.api.retries }})"
  channel: "{{ pack.config.channel }}"
`})
	// monPack's pack.yaml has config {channel: "#ops"}; add defaults the override changes.
	writeFiles(t, dir, map[string]string{"pack.yaml": "ref: mon\nversion: 1.0.0\nconfig:\n  channel: \"#ops\"\n  greeting: hello\n  api: {baseURL: \"https://default.example\", retries: 3}\n"})
	out, errOut, code := in.attune("pack", "register", dir)
	require.Equal(t, 0, code, "%s %s", out, errOut)

	r, errOut, code := in.emit("--wait", "mon.alert", "level=info")
	require.Equal(t, 0, code, errOut)
	require.Equal(t, []string{"mon.greet"}, r.fired())
	require.Len(t, r.Rules[0].Executions, 1)

	conn := connect(t, url)
	ctx := context.Background()
	var params, config []byte
	require.NoError(t, conn.QueryRow(ctx, `SELECT parameters FROM attune.execution WHERE id = $1`,
		r.Rules[0].Executions[0].ID).Scan(&params))
	require.JSONEq(t, `{"greeting": "bonjour, https://override.example (retries 3)", "channel": "#ops"}`, string(params))
	require.NoError(t, conn.QueryRow(ctx, `SELECT config FROM attune.pack WHERE ref = 'mon'`).Scan(&config))
	require.JSONEq(t, `{"channel": "#ops", "greeting": "bonjour", "api": {"baseURL": "https://override.example", "retries": 3}}`, string(config))
	require.Equal(t, 0, stop(), "logs:\n%s", logs)
}

// Part 6 and core.http_request through the real binary and database: file delivery (a 0400
// file, gone afterwards, stdin empty) in YAML and dotenv, yaml and jsonl output, and an HTTP
// request against a loopback server with a secret bearer token that never reaches the stored
// execution; an HTTP error fails the action only when fail_on_status says so.
func TestE2EDeliveryOutputAndHTTP(t *testing.T) {
	in := newInstance(t)
	in.env = append(in.env, "ATTUNE_SECRETS_KEY="+base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{9}, 32)))
	stop, logs := in.start()
	url := in.dbURL()

	pack := filepath.Join(in.dir, "fmt")
	writeFiles(t, pack, map[string]string{
		"pack.yaml": "ref: fmt\nversion: 1.0.0\n",
		"actions/filed.yaml": `ref: filed
entry_point: filed.sh
parameter_delivery: file
parameter_format: yaml
output_format: json
parameters: {name: {type: string}, n: {type: integer, default: 2}}
`,
		"actions/filed.sh": `mode=$(stat -c %a "$ATTUNE_PARAMETER_FILE")
stdin=$(cat)
cat "$ATTUNE_PARAMETER_FILE" >&2
printf '{"mode":"%s","stdin":"%s","path":"%s","format":"%s"}\n' "$mode" "$stdin" "$ATTUNE_PARAMETER_FILE" "$ATTUNE_PARAMETER_FORMAT"
`,
		"actions/dotenv.yaml":  "ref: dotenv\nentry_point: dotenv.sh\nparameter_delivery: file\nparameter_format: dotenv\nparameters: {message: {type: string}}\n",
		"actions/dotenv.sh":    ". \"$ATTUNE_PARAMETER_FILE\"\nprintf '%s' \"$message\"\n",
		"actions/lines.yaml":   "ref: lines\nentry_point: lines.sh\noutput_format: jsonl\n",
		"actions/lines.sh":     "echo '{\"step\":1}'\necho working\necho '{\"step\":2}'\n",
		"actions/yamlout.yaml": "ref: yamlout\nentry_point: yamlout.sh\noutput_format: yaml\n",
		"actions/yamlout.sh":   "printf 'host: db1\\nports: [5432, 6432]\\n'\n",
	})
	out, errOut, code := in.attune("pack", "register", pack)
	require.Equal(t, 0, code, "%s %s", out, errOut)

	type execution struct {
		ID     int64  `json:"id"`
		Status string `json:"status"`
		Error  string `json:"error"`
		Result struct {
			Stdout string `json:"stdout"`
			Stderr string `json:"stderr"`
			Data   any    `json:"data"`
		} `json:"result"`
	}
	run := func(wantCode int, args ...string) execution {
		t.Helper()
		out, errOut, code := in.attune(append([]string{"run", "--json"}, args...)...)
		require.Equal(t, wantCode, code, "%s %s", out, errOut)
		var x execution
		require.NoError(t, json.Unmarshal([]byte(out), &x), out)
		return x
	}

	x := run(0, "fmt.filed", "name=it's ada")
	data := x.Result.Data.(map[string]any)
	require.Equal(t, "400", data["mode"])
	require.Equal(t, "", data["stdin"])
	require.Equal(t, "yaml", data["format"])
	require.Equal(t, "\"n\": 2\nname: it's ada\n", x.Result.Stderr, "YAML, defaults applied")
	require.NoFileExists(t, data["path"].(string), "removed once the run is over")

	x = run(0, "fmt.dotenv", "message=two\nlines, 'quoted' $HOME")
	require.Equal(t, "two\nlines, 'quoted' $HOME", x.Result.Stdout)

	x = run(0, "fmt.lines")
	require.Equal(t, []any{map[string]any{"step": 1.0}, map[string]any{"step": 2.0}}, x.Result.Data)

	x = run(0, "fmt.yamlout")
	require.Equal(t, map[string]any{"host": "db1", "ports": []any{5432.0, 6432.0}}, x.Result.Data)

	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.URL.Path == "/fail" {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"method": r.Method, "query": r.URL.RawQuery, "auth": r.Header.Get("Authorization"), "body": string(body),
		})
	}))
	defer srv.Close()

	const token = "s3cr3t-t0ken"
	x = run(0, "core.http_request", "url="+srv.URL+"/things", "method=POST", `json:={"a":1}`,
		`query:={"q":"x y"}`, "auth_type=bearer", "auth_token="+token, `fail_on_status:=[">=500"]`)
	require.Equal(t, "completed", x.Status, x.Error)
	data = x.Result.Data.(map[string]any)
	require.Equal(t, 200.0, data["status_code"])
	require.Equal(t, map[string]any{"method": "POST", "query": "q=x+y", "auth": "Bearer ********", "body": `{"a":1}`}, data["json"],
		"the token the server echoed is redacted")
	require.Contains(t, data, "elapsed_ms")
	require.Contains(t, data, "headers")

	x = run(1, "core.http_request", "url="+srv.URL+"/fail", `fail_on_status:=["5xx"]`)
	require.Equal(t, "failed", x.Status)
	require.Contains(t, x.Error, `HTTP 503 Service Unavailable, which fail_on_status "5xx" fails`)
	x = run(0, "core.http_request", "url="+srv.URL+"/fail")
	require.Equal(t, "completed", x.Status, "an HTTP error status alone does not fail the action")
	require.Equal(t, 503.0, x.Result.Data.(map[string]any)["status_code"])

	conn := connect(t, url)
	var leaks int
	require.NoError(t, conn.QueryRow(context.Background(),
		`SELECT count(*) FROM attune.execution x WHERE x::text LIKE '%' || $1 || '%'`, token).Scan(&leaks))
	require.Zero(t, leaks, "the token is in no execution row")
	require.NotContains(t, logs.String(), token)
	require.Equal(t, 0, stop(), "logs:\n%s", logs)
}
