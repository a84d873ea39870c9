package jobs_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/internal/attunetest"
	"github.com/attune-run/attune/packs"
)

// registerST2 writes a pack from files, loads it and registers it on e.
func registerST2(t *testing.T, e *attunetest.Env, files map[string]string) *attune.Pack {
	t.Helper()
	p, err := packs.LoadDir(attunetest.WritePack(t, files), time.Now())
	require.NoError(t, err)
	_, err = e.Registry.RegisterPack(context.Background(), p)
	require.NoError(t, err)
	return p
}

// A StackStorm action whose name holds dots registers and runs by its full ref.
func TestStackStormDottedActionRuns(t *testing.T) {
	t.Parallel()
	e := attunetest.New(t)
	ctx := context.Background()
	registerST2(t, e, map[string]string{
		"pack.yaml":                      "ref: ansible\nname: ansible\nversion: 0.1.0\n",
		"actions/galaxy.install.yaml":    "name: galaxy.install\npack: ansible\nrunner_type: noop\nparameters:\n  roles: {type: array}\n",
		"actions/galaxy.install.sh.yaml": "name: galaxy.list\npack: ansible\nrunner_type: noop\n",
	})
	a, _, err := e.DB.AutoCommit().Action(ctx, "ansible.galaxy.install")
	require.NoError(t, err)
	require.Equal(t, "ansible", a.PackRef)

	x, err := e.P.Run(ctx, "ansible.galaxy.install", map[string]any{"roles": []any{"x"}}, 0)
	require.NoError(t, err)
	x = e.WaitTerminal(t, x.ID, 10*time.Second)
	require.Equal(t, attune.StatusCompleted, x.Status, x.Error)
}

// runST2 runs ref with params and waits for it.
func runST2(t *testing.T, e *attunetest.Env, ref string, params map[string]any) (attune.Execution, map[string]any) {
	t.Helper()
	x, err := e.P.Run(context.Background(), ref, params, 0)
	require.NoError(t, err)
	x = e.WaitTerminal(t, x.ID, 30*time.Second)
	r := result(t, x)
	data, _ := r["data"].(map[string]any)
	return x, data
}

// A Python action written as StackStorm writes them, a class with run(), runs on the real
// pipeline: it imports its pack's actions/lib (as lib.base, and base's own sibling import),
// self.config is the pack's config, self.logger writes to stderr, run()'s return value is the
// result; (False, value) fails it, and so does an exception, with its traceback.
func TestStackStormPythonActionClass(t *testing.T) {
	t.Parallel()
	e := attunetest.New(t)
	registerST2(t, e, map[string]string{
		"pack.yaml": "ref: jk\nname: jk\nversion: 0.1.0\nconfig:\n  url: https://ci.example\n",
		"actions/build.yaml": "name: build\npack: jk\nrunner_type: python-script\nentry_point: build.py\n" +
			"parameters:\n  project: {type: string, required: true}\n  mode: {type: string, default: ok}\n",
		"actions/lib/__init__.py": "",
		"actions/lib/base.py":     "from helpers import shout\n\n\ndef describe(project):\n    return shout(project)\n",
		"actions/lib/helpers.py":  "def shout(s):\n    return s.upper()\n",
		"actions/build.py": `from st2common.runners.base_action import Action

from lib.base import describe


class BuildProject(Action):
    def run(self, project, mode):
        self.logger.info("building %s", project)
        print("stdout line")
        if mode == "tuple":
            return (False, {"why": "queue full"})
        if mode == "raise":
            raise ValueError("no such project: " + project)
        if mode == "datastore":
            return self.action_service.get_value("k")
        return {"project": describe(project), "url": self.config["url"]}
`,
	})

	x, data := runST2(t, e, "jk.build", map[string]any{"project": "web"})
	require.Equal(t, attune.StatusCompleted, x.Status, x.Error)
	require.Equal(t, map[string]any{"project": "WEB", "url": "https://ci.example"}, data["result"], "actions/lib is importable")
	require.Equal(t, "stdout line\n", data["stdout"])
	require.Contains(t, data["stderr"], "INFO")
	require.Contains(t, data["stderr"], "building web")
	require.EqualValues(t, 0, data["exit_code"])

	x, data = runST2(t, e, "jk.build", map[string]any{"project": "web", "mode": "tuple"})
	require.Equal(t, attune.StatusFailed, x.Status)
	require.Equal(t, "run() returned (False, result)", x.Error)
	require.Equal(t, map[string]any{"why": "queue full"}, data["result"])

	x, data = runST2(t, e, "jk.build", map[string]any{"project": "web", "mode": "raise"})
	require.Equal(t, attune.StatusFailed, x.Status)
	require.Equal(t, "ValueError: no such project: web", x.Error)
	require.Contains(t, data["stderr"], "Traceback (most recent call last)")

	// action_service reaches the datastore (st2datastore_test.go): a key never set is None.
	x, data = runST2(t, e, "jk.build", map[string]any{"project": "web", "mode": "datastore"})
	require.Equal(t, attune.StatusCompleted, x.Status, x.Error)
	require.Nil(t, data["result"])
}

// A local-shell-cmd action whose cmd default is a template over the other parameters runs; each
// value is filled in shell-quoted, so a value holding shell syntax stays one word; a secret
// filled in never reaches argv. The result has StackStorm's local runner shape.
func TestStackStormLocalShellCmd(t *testing.T) {
	t.Parallel()
	e := attunetest.New(t)
	registerST2(t, e, map[string]string{
		"pack.yaml": "ref: net\nversion: 0.1.0\n",
		"actions/show.yaml": "name: show\npack: net\nrunner_type: local-shell-cmd\nentry_point: ''\nparameters:\n" +
			"  cmd: {default: \"printf '<%s>' {{ host }} {{ count }} {{ flag }}; printf '%s' {{token}} | wc -c; cat /proc/$$/cmdline | tr '\\\\0' ' '\", immutable: true}\n" +
			"  host: {type: string, required: true}\n  count: {type: integer, default: 3}\n  flag: {type: boolean, default: true}\n" +
			"  token: {type: string, secret: true, default: s3cr3t-value}\n  sudo: {immutable: true, default: false}\n",
	})

	x, data := runST2(t, e, "net.show", map[string]any{"host": "a b; touch /tmp/attune-pwned'$(id)"})
	require.Equal(t, attune.StatusCompleted, x.Status, x.Error)
	out := data["stdout"].(string)
	require.True(t, strings.HasPrefix(out, "<a b; touch /tmp/attune-pwned'$(id)><3><True>12\n"), out)
	require.NotContains(t, out, "s3cr3t", "the shell's argv holds no secret")
	require.EqualValues(t, 0, data["return_code"])
	require.Equal(t, true, data["succeeded"])
	require.NoFileExists(t, "/tmp/attune-pwned'$(id)")

	_, err := e.P.Run(context.Background(), "net.show", map[string]any{"host": "h", "cmd": "id"}, 0)
	require.ErrorContains(t, err, "cmd: immutable")
}

// core.local's env parameter sets any shell variable, as StackStorm's does: the worker's own
// environment stays out, and ATTUNE_* names stay attune's.
func TestStackStormCoreLocalEnv(t *testing.T) {
	t.Parallel()
	e := attunetest.New(t)
	x, data := runST2(t, e, "core.local", map[string]any{"cmd": `printf '%s|%s' "$MARKER" "$ATTUNE_ACTION"`, "env": map[string]any{"MARKER": "x y", "N": 3}})
	require.Equal(t, attune.StatusCompleted, x.Status, x.Error)
	require.Equal(t, "x y|core.local", data["stdout"])

	x, data = runST2(t, e, "core.local", map[string]any{"cmd": "true", "env": map[string]any{"ATTUNE_ACTION": "spoof"}})
	require.Equal(t, attune.StatusFailed, x.Status)
	require.Contains(t, x.Error, `parameter env: "ATTUNE_ACTION" is not a variable an action may set`)
	_ = data
}

// A local-shell-script gets StackStorm's arguments: --name=value, then positional ones by
// position; a secret parameter is not an argument but arrives on stdin.
func TestStackStormLocalShellScript(t *testing.T) {
	t.Parallel()
	e := attunetest.New(t)
	registerST2(t, e, map[string]string{
		"pack.yaml": "ref: sc\nversion: 0.1.0\n",
		"actions/greet.yaml": "name: greet\npack: sc\nrunner_type: local-shell-script\nentry_point: greet.sh\nparameters:\n" +
			"  greeting: {type: string, position: 0, required: true}\n  who: {type: string, position: 1}\n" +
			"  loud: {type: boolean, default: true}\n  quiet: {type: boolean, default: false}\n  tags: {type: array, default: [a, b]}\n" +
			"  password: {type: string, secret: true, default: pw-value}\n",
		"actions/greet.sh": "#!/bin/sh\nfor a in \"$@\"; do printf '[%s]' \"$a\"; done\necho\ncat\n",
	})
	x, data := runST2(t, e, "sc.greet", map[string]any{"greeting": "hi there"})
	require.Equal(t, attune.StatusCompleted, x.Status, x.Error)
	args, stdin, _ := strings.Cut(data["stdout"].(string), "\n")
	require.Equal(t, `[--loud][--tags=["a","b"]][hi there][]`, args)
	require.Contains(t, stdin, `{"password":`, "the secret is on stdin, as JSON")
}

// A rule in StackStorm's own shape, on core.st2.IntervalTimer, runs core.local end to end: the
// timer fires, the event carries StackStorm's executed_at (which the criteria test), and
// core.local's result has StackStorm's local runner shape.
func TestStackStormIntervalTimerRunsCoreLocal(t *testing.T) {
	t.Parallel()
	e := attunetest.New(t)
	registerST2(t, e, map[string]string{
		"pack.yaml": "ref: tick\nname: tick\nversion: 0.1.0\n",
		"rules/every_second.yaml": `---
name: every_second
pack: tick
description: StackStorm's own shape.
enabled: true
trigger:
  type: core.st2.IntervalTimer
  parameters: {delta: 1, unit: seconds}
criteria:
  trigger.executed_at:
    type: exists
    pattern: ""
action:
  ref: core.local
  parameters:
    cmd: "printf 'tick from %s\n' \"$(basename \"$PWD\")\"; echo oops >&2"
    cwd: /
`,
	})
	var id int64
	deadline := time.Now().Add(60 * time.Second)
	for id == 0 {
		err := e.DB.Pool.QueryRow(context.Background(),
			`SELECT id FROM attune.execution WHERE action_ref = 'core.local' ORDER BY id LIMIT 1`).Scan(&id)
		if err != nil && time.Now().After(deadline) {
			t.Fatalf("no core.local execution after 60s: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	x := e.WaitTerminal(t, id, 30*time.Second)
	require.Equal(t, attune.StatusCompleted, x.Status, x.Error)
	data := result(t, x)["data"].(map[string]any)
	require.Equal(t, "tick from /", data["stdout"], "last newline stripped")
	require.Equal(t, "oops", data["stderr"])
	require.EqualValues(t, 0, data["return_code"])
	require.Equal(t, true, data["succeeded"])
	require.Equal(t, false, data["failed"])

	var executedAt string
	var schedule *string
	require.NoError(t, e.DB.Pool.QueryRow(context.Background(),
		`SELECT payload->>'executed_at', payload->>'schedule' FROM attune.event WHERE rule_ref = 'tick.every_second' ORDER BY id LIMIT 1`).Scan(&executedAt, &schedule))
	require.Regexp(t, `^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}\+00:00$`, executedAt, "StackStorm's format")
	require.Nil(t, schedule)
}

// A pack whose dependencies are not registered is refused, naming every missing one; once they
// are, it registers.
func TestStackStormDependenciesCheckedAtRegistration(t *testing.T) {
	t.Parallel()
	e := attunetest.New(t)
	ctx := context.Background()
	p, err := packs.LoadDir(attunetest.WritePack(t, map[string]string{
		"pack.yaml": "name: needs\nversion: 0.1.0\ndependencies: [core, ansible, jenkins=1.0.0]\n",
	}), time.Now())
	require.NoError(t, err)
	_, err = e.Registry.RegisterPack(ctx, p)
	require.ErrorIs(t, err, attune.ErrInvalid)
	require.ErrorContains(t, err, "pack needs depends on packs that are not registered: ansible, jenkins; register them first")

	registerST2(t, e, map[string]string{"pack.yaml": "ref: ansible\nversion: 0.1.0\n"})
	registerST2(t, e, map[string]string{"pack.yaml": "ref: jenkins\nversion: 0.1.0\n"})
	_, err = e.Registry.RegisterPack(ctx, p)
	require.NoError(t, err)
}
