package main_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// The end-to-end scenarios of issue 4 (the predecessor's T2.4, T2.5, T3.5 and T3.4): events are
// published with `attune event emit`, the entry point webhooks will use, and what the rules made
// of them is read back with SQL and `attune event get --json`.

// eventReport is `attune event get --json`.
type eventReport struct {
	ID         int64          `json:"id"`
	TriggerRef string         `json:"trigger_ref"`
	Payload    map[string]any `json:"payload"`
	Processing string         `json:"processing"`
	Rules      []struct {
		RuleRef     string `json:"rule_ref"`
		Outcome     string `json:"outcome"`
		Reason      string `json:"reason"`
		Enforcement *struct {
			ID     int64  `json:"id"`
			Status string `json:"status"`
			Reason string `json:"reason"`
		} `json:"enforcement"`
		Executions []struct {
			ID     int64  `json:"id"`
			Status string `json:"status"`
		} `json:"executions"`
	} `json:"rules"`
}

// fired lists the rules that matched, sorted as reported.
func (r eventReport) fired() []string {
	var out []string
	for _, rr := range r.Rules {
		if rr.Outcome == "matched" {
			out = append(out, rr.RuleRef)
		}
	}
	return out
}

// outcome returns what one rule made of the event.
func (r eventReport) outcome(t *testing.T, rule string) (outcome, reason string) {
	t.Helper()
	for _, rr := range r.Rules {
		if rr.RuleRef == rule {
			return rr.Outcome, rr.Reason
		}
	}
	t.Fatalf("event %d has no outcome for rule %s: %+v", r.ID, rule, r.Rules)
	return "", ""
}

// emit runs `attune event emit --json ARGS…` and decodes its report.
func (in *instance) emit(args ...string) (eventReport, string, int) {
	in.t.Helper()
	out, errOut, code := in.attune(append([]string{"event", "emit", "--json"}, args...)...)
	var r eventReport
	if strings.TrimSpace(out) != "" {
		require.NoError(in.t, json.Unmarshal([]byte(out), &r), "stdout: %s\nstderr: %s", out, errOut)
	}
	return r, errOut, code
}

// getEvent runs `attune event get --json ID`.
func (in *instance) getEvent(id int64) eventReport {
	in.t.Helper()
	out, errOut, code := in.attune("event", "get", "--json", strconv.FormatInt(id, 10))
	require.Equal(in.t, 0, code, errOut)
	var r eventReport
	require.NoError(in.t, json.Unmarshal([]byte(out), &r), out)
	return r
}

// monPack writes a pack with a trigger, an action that returns its parameters (a shell `cat` of
// the JSON document on its stdin) and the given rules.
func monPack(t *testing.T, root string, rules map[string]string) string {
	t.Helper()
	dir := filepath.Join(root, "mon")
	files := map[string]string{
		"pack.yaml":           "ref: mon\nversion: 1.0.0\nconfig: {channel: \"#ops\"}\n",
		"triggers/alert.yaml": "ref: alert\ndescription: an alert from monitoring\n",
		"actions/record.yaml": `ref: record
runner_type: shell
entry_point: record.sh
output_format: json
parameters:
  to: {type: string}
  city: {type: string}
  first_tag: {type: string}
  count: {type: integer}
  ok: {type: boolean}
  user: {type: object}
  tags: {type: array}
  greeting: {type: string}
  channel: {type: string}
  note: {type: string}
`,
		"actions/record.sh": "cat\n",
	}
	for name, body := range rules {
		files["rules/"+name+".yaml"] = body
	}
	writeFiles(t, dir, files)
	return dir
}

func connect(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// T2.4: parameters are rendered from the event: top-level and nested paths, list items, the pack
// config, and a default; a whole template keeps its JSON type. A missing value fails the
// enforcement with a reason naming the path, and no execution is created. A running replica
// processes the events; emit --wait waits for it.
func TestE2ETemplating(t *testing.T) {
	in := newInstance(t)
	stop, logs := in.start()
	url := in.dbURL()
	pack := monPack(t, in.dir, map[string]string{"notify": `ref: notify
trigger_ref: alert
action_ref: record
action_params:
  to: "{{ event.payload.user_email }}"
  city: "{{ event.payload.user.address.city }}"
  first_tag: "{{ event.payload.tags[0] }}"
  count: "{{ event.payload.count }}"
  ok: "{{ event.payload.ok }}"
  user: "{{ event.payload.user }}"
  tags: "{{ event.payload.tags }}"
  greeting: "Hello {{ upper(event.payload.user.name) }}, {{ event.payload.count }} alerts on {{ event.payload.tags }}"
  channel: "{{ pack.config.channel }}"
  note: "{{ event.payload.note ?? 'none' }}"
`})
	out, errOut, code := in.attune("pack", "register", pack)
	require.Equal(t, 0, code, "%s %s", out, errOut)

	conn := connect(t, url)
	r, errOut, code := in.emit("--wait", "mon.alert", "user_email=ada@example.com", "count:=7", "ok:=true",
		"--payload", `{"user": {"name": "ada", "address": {"city": "Paris"}}, "tags": ["db", "prod"]}`)
	require.Equal(t, 0, code, errOut)
	require.Equal(t, "completed", r.Processing)
	require.Equal(t, []string{"mon.notify"}, r.fired())
	require.Len(t, r.Rules[0].Executions, 1)
	require.Equal(t, "completed", r.Rules[0].Executions[0].Status)

	ctx := context.Background()
	var params, data []byte
	require.NoError(t, conn.QueryRow(ctx, `SELECT parameters, result->'data' FROM attune.execution WHERE id = $1`,
		r.Rules[0].Executions[0].ID).Scan(&params, &data))
	want := `{
		"to": "ada@example.com", "city": "Paris", "first_tag": "db", "count": 7, "ok": true,
		"user": {"name": "ada", "address": {"city": "Paris"}}, "tags": ["db", "prod"],
		"greeting": "Hello ADA, 7 alerts on [\"db\",\"prod\"]", "channel": "#ops", "note": "none"}`
	require.JSONEq(t, want, string(params), "stored parameters keep their JSON types")
	require.JSONEq(t, want, string(data), "the action received them on stdin")

	// A missing value fails the enforcement with a reason naming the path; nothing runs.
	r, errOut, code = in.emit("--wait", "mon.alert", "count:=1", "--payload", `{"user": {"name": "bob"}, "tags": []}`)
	require.Equal(t, 1, code, "a failed enforcement fails emit --wait")
	require.Contains(t, errOut, "enforcement failed")
	require.Equal(t, []string{"mon.notify"}, r.fired(), "the rule matched")
	n := r.Rules[0].Enforcement
	require.NotNil(t, n)
	require.Equal(t, "failed", n.Status)
	require.Contains(t, n.Reason, "event.payload.user.address is missing")
	require.Empty(t, r.Rules[0].Executions)
	var execs int
	require.NoError(t, conn.QueryRow(ctx, `
		SELECT count(*) FROM attune.execution x JOIN attune.enforcement n ON n.id = x.enforcement_id
		WHERE n.event_id = $1`, r.ID).Scan(&execs))
	require.Zero(t, execs, "no execution for a failed enforcement")
	var reason string
	require.NoError(t, conn.QueryRow(ctx, `SELECT reason FROM attune.enforcement WHERE event_id = $1`, r.ID).Scan(&reason))
	require.Equal(t, n.Reason, reason)
	require.Equal(t, r.ID, in.getEvent(r.ID).ID)
	require.Equal(t, 0, stop(), "logs:\n%s", logs)
}

// criteriaRules are rules on mon.alert whose criteria filter events: T2.5 and T3.5.
var criteriaRules = map[string]string{
	"on_error":   "ref: on_error\ntrigger_ref: alert\naction_ref: record\ncriteria: {expression: \"{{ event.payload.level == 'error' }}\"}\n",
	"on_info":    "ref: on_info\ntrigger_ref: alert\naction_ref: record\ncriteria: [{field: level, operator: equals, value: info}]\n",
	"many":       "ref: many\ntrigger_ref: alert\naction_ref: record\ncriteria: {expression: \"event.payload.count > 3\"}\n",
	"error_many": "ref: error_many\ntrigger_ref: alert\naction_ref: record\ncriteria: {expression: \"event.payload.level == 'error' and event.payload.count >= 10\"}\n",
	"info_or_warning": "ref: info_or_warning\ntrigger_ref: alert\naction_ref: record\n" +
		"criteria: {expression: \"event.payload.level == 'info' or event.payload.level == 'warning'\"}\n",
	"web_hosts": "ref: web_hosts\ntrigger_ref: alert\naction_ref: record\n" +
		"conditions: {trigger.host: {type: in, pattern: [web-01, web-02]}, trigger.level: {type: nequals, pattern: debug}}\n",
	// StackStorm's own format, field for field: name, pack, enabled, trigger.type, criteria
	// keys with the trigger. prefix and type/pattern, search over list items, action.ref and
	// action.parameters with a {{ trigger.x }} template.
	"st2_approved": `---
name: "st2_approved"
pack: "mon"
description: "A change approved on a web host, as written for StackStorm."
enabled: true
trigger:
    type: "mon.alert"
criteria:
    trigger.fields:
        type: "search"
        condition: "any"
        pattern:
            item.field_name:
                type: "equals"
                pattern: "Status"
            item.to_value:
                type: "equals"
                pattern: "Approved"
    trigger.host:
        type: "matchwildcard"
        pattern: "web-*"
    trigger.headers['X-Source']:
        type: "iequals"
        pattern: "GITHUB"
action:
    ref: "mon.record"
    parameters:
        to: "{{ trigger.host }}"
`,
}

// T2.5 and T3.5: criteria decide which of several rules fire for each event: equality, a numeric
// comparison, and/or, `in`, and a rule written in StackStorm's format. Every rule's outcome is
// recorded with the reason it did not match. No replica runs: emit --wait processes each event
// and runs its executions itself; SQL checks the rows afterwards, once attune start is up.
func TestE2ECriteriaFilterWhichRulesFire(t *testing.T) {
	in := newInstance(t)
	pack := monPack(t, in.dir, criteriaRules)
	out, errOut, code := in.attune("pack", "register", pack)
	require.Equal(t, 0, code, "%s %s", out, errOut)

	tests := []struct {
		name    string
		args    []string
		fired   []string
		reasons map[string]string // rule -> reason it did not match
	}{
		{
			name:  "error, few, on a web host",
			args:  []string{"level=error", "count:=2", "host=web-01"},
			fired: []string{"mon.on_error", "mon.web_hosts"},
			reasons: map[string]string{
				"mon.on_info":         `level: equals "info": saw "error"`,
				"mon.many":            `expression "event.payload.count > 3" is false; saw event.payload.count = 2`,
				"mon.error_many":      `expression "event.payload.level == 'error' and event.payload.count >= 10" is false; saw event.payload.level = "error", event.payload.count = 2`,
				"mon.info_or_warning": `expression "event.payload.level == 'info' or event.payload.level == 'warning'" is false; saw event.payload.level = "error"`,
				"mon.st2_approved":    `trigger.fields: search any: missing`,
			},
		},
		{
			name:  "error, many, elsewhere",
			args:  []string{"level=error", "count:=12", "host=db-01"},
			fired: []string{"mon.on_error", "mon.many", "mon.error_many"},
			reasons: map[string]string{
				"mon.web_hosts": `trigger.host: in ["web-01","web-02"]: saw "db-01"`,
			},
		},
		{
			name:  "info on a web host",
			args:  []string{"level=info", "count:=5", "host=web-02"},
			fired: []string{"mon.on_info", "mon.many", "mon.info_or_warning", "mon.web_hosts"},
		},
		{
			name:  "warning, no count",
			args:  []string{"level=warning"},
			fired: []string{"mon.info_or_warning"},
			reasons: map[string]string{
				"mon.web_hosts": `trigger.host: in ["web-01","web-02"]: missing`,
				"mon.many":      `expression "event.payload.count > 3" does not hold: line 1, column 21: invalid operation: <nil> > int; saw event.payload.count = (missing)`,
			},
		},
		{
			name: "a StackStorm rule translated field for field",
			args: []string{"--payload", `{"level": "debug", "host": "web-07", "headers": {"X-Source": "github"},
				"fields": [{"field_name": "Assignee", "to_value": "ada"}, {"field_name": "Status", "to_value": "Approved"}]}`},
			fired: []string{"mon.st2_approved"},
			reasons: map[string]string{
				"mon.web_hosts": `trigger.host: in ["web-01","web-02"]: saw "web-07"`,
			},
		},
		{
			name: "the StackStorm rule's search needs one item to match every nested criterion",
			args: []string{"--payload", `{"host": "web-07", "headers": {"X-Source": "GitHub"},
				"fields": [{"field_name": "Status", "to_value": "Rejected"}, {"field_name": "Approver", "to_value": "Approved"}]}`},
			fired: nil,
			reasons: map[string]string{
				"mon.st2_approved": `trigger.fields: search any: none of 2 items matches; item 0: item.to_value: equals "Approved": saw "Rejected"`,
			},
		},
	}
	ids := make([]int64, len(tests))
	for i, tt := range tests {
		r, errOut, code := in.emit(append([]string{"--wait", "mon.alert"}, tt.args...)...)
		require.Equal(t, 0, code, "%s: %s", tt.name, errOut)
		require.ElementsMatch(t, tt.fired, r.fired(), tt.name)
		require.Len(t, r.Rules, len(criteriaRules), "%s: every rule is considered", tt.name)
		for rule, want := range tt.reasons {
			outcome, reason := r.outcome(t, rule)
			require.Equal(t, "not_matched", outcome, "%s: %s", tt.name, rule)
			require.Equal(t, want, reason, "%s: %s", tt.name, rule)
		}
		ids[i] = r.ID
	}

	// The database agrees: one enforcement and one completed execution per fired rule, none for
	// the others, and an outcome for every rule.
	stop, logs := in.start()
	conn := connect(t, in.dbURL())
	ctx := context.Background()
	for i, tt := range tests {
		rows, err := conn.Query(ctx, `
			SELECT n.rule_ref FROM attune.enforcement n
			JOIN attune.execution x ON x.enforcement_id = n.id AND x.status = 'completed'
			WHERE n.event_id = $1`, ids[i])
		require.NoError(t, err)
		ran, err := pgx.CollectRows(rows, pgx.RowTo[string])
		require.NoError(t, err)
		require.ElementsMatch(t, tt.fired, ran, tt.name)
		var outcomes, matched int
		require.NoError(t, conn.QueryRow(ctx, `
			SELECT count(*), count(*) FILTER (WHERE outcome = 'matched') FROM attune.rule_outcome WHERE event_id = $1`,
			ids[i]).Scan(&outcomes, &matched))
		require.Equal(t, []int{len(criteriaRules), len(tt.fired)}, []int{outcomes, matched}, tt.name)
	}

	// The StackStorm rule's template read trigger.host.
	var to string
	require.NoError(t, conn.QueryRow(ctx, `
		SELECT x.parameters->>'to' FROM attune.execution x JOIN attune.enforcement n ON n.id = x.enforcement_id
		WHERE n.rule_ref = 'mon.st2_approved'`).Scan(&to))
	require.Equal(t, "web-07", to)

	// Usage errors exit 2 and say what to do.
	_, errOut, code = in.attune("event", "emit", "mon.nope", "level=error")
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "trigger mon.nope is not registered; `attune pack register DIR`")
	_, errOut, code = in.attune("event", "emit", "core.intervaltimer")
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "core.intervaltimer is a timer trigger")
	_, errOut, code = in.attune("event", "emit", "mon.alert", "--payload", "[1]")
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "--payload must be a JSON object")
	_, errOut, code = in.attune("event", "emit", "mon.alert", "count:=seven")
	require.Equal(t, 2, code)
	require.Contains(t, errOut, `parameter count: "seven" is not JSON`)
	require.Equal(t, 0, stop(), "logs:\n%s", logs)
}

// T3.4: one event, several matching rules: one enforcement and one execution each, worked by a
// running `attune start` (emit only records the event and its job), and no duplicates later.
func TestE2EOneEventSeveralRules(t *testing.T) {
	in := newInstance(t)
	stop, logs := in.start()
	url := in.dbURL()
	pack := monPack(t, in.dir, map[string]string{
		"a": "ref: a\ntrigger_ref: alert\naction_ref: record\naction_params: {note: a}\n",
		"b": "ref: b\ntrigger_ref: alert\naction_ref: record\ncriteria: {trigger.level: {type: eq, pattern: error}}\naction_params: {note: b}\n",
		"c": "ref: c\ntrigger_ref: alert\naction_ref: record\ncriteria: [{field: count, operator: gt, value: 1}]\naction_params: {note: c}\n",
		"d": "ref: d\ntrigger_ref: alert\naction_ref: record\ncriteria: [{field: level, operator: eq, value: info}]\naction_params: {note: d}\n",
	})
	out, errOut, code := in.attune("pack", "register", pack)
	require.Equal(t, 0, code, "%s %s", out, errOut)
	conn := connect(t, url)
	ctx := context.Background()
	require.Eventually(t, func() bool { // attune start has announced its rules role
		var n int
		require.NoError(t, conn.QueryRow(ctx, `SELECT count(*) FROM attune.worker WHERE roles LIKE '%rules%'`).Scan(&n))
		return n > 0
	}, 30*time.Second, 100*time.Millisecond, "logs:\n%s", logs)

	out, errOut, code = in.attune("event", "emit", "mon.alert", "level=error", "count:=2")
	require.Equal(t, 0, code, errOut)
	require.Regexp(t, "^event [0-9]+ emitted; `attune event get [0-9]+` shows what its rules made of it\n$", out,
		"a running replica processes the event")
	id, err := strconv.ParseInt(strings.Fields(out)[1], 10, 64)
	require.NoError(t, err)

	type run struct {
		rule, note, status string
	}
	var runs []run
	require.Eventually(t, func() bool {
		rows, err := conn.Query(ctx, `
			SELECT n.rule_ref, x.parameters->>'note', x.status FROM attune.enforcement n
			JOIN attune.execution x ON x.enforcement_id = n.id
			WHERE n.event_id = $1 ORDER BY n.rule_ref`, id)
		require.NoError(t, err)
		runs, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (run, error) {
			var x run
			return x, r.Scan(&x.rule, &x.note, &x.status)
		})
		require.NoError(t, err)
		done := len(runs) == 3
		for _, x := range runs {
			done = done && x.status == "completed"
		}
		return done
	}, 30*time.Second, 100*time.Millisecond, "three completed executions; logs:\n%s", logs)
	require.Equal(t, []run{{"mon.a", "a", "completed"}, {"mon.b", "b", "completed"}, {"mon.c", "c", "completed"}}, runs)

	r := in.getEvent(id)
	require.Equal(t, "completed", r.Processing)
	require.ElementsMatch(t, []string{"mon.a", "mon.b", "mon.c"}, r.fired())
	outcome, reason := r.outcome(t, "mon.d")
	require.Equal(t, "not_matched", outcome)
	require.Equal(t, `level: eq "info": saw "error"`, reason)
	for _, rr := range r.Rules {
		if rr.Outcome == "matched" {
			require.Equal(t, "processed", rr.Enforcement.Status)
			require.Len(t, rr.Executions, 1, rr.RuleRef)
		}
	}

	// Nothing is enforced or run twice.
	time.Sleep(time.Second)
	var enforcements, executions, jobs int
	require.NoError(t, conn.QueryRow(ctx, `SELECT count(*) FROM attune.enforcement WHERE event_id = $1`, id).Scan(&enforcements))
	require.NoError(t, conn.QueryRow(ctx, `
		SELECT count(*) FROM attune.execution x JOIN attune.enforcement n ON n.id = x.enforcement_id
		WHERE n.event_id = $1`, id).Scan(&executions))
	require.NoError(t, conn.QueryRow(ctx, `
		SELECT count(*) FROM river_job WHERE kind = 'attune.event.process' AND args @> jsonb_build_object('event_id', $1::bigint)`,
		id).Scan(&jobs))
	require.Equal(t, []int{3, 3, 1}, []int{enforcements, executions, jobs})

	out, _, code = in.attune("event", "get", strconv.FormatInt(id, 10))
	require.Equal(t, 0, code)
	require.Contains(t, out, "mon.d  did not match: level: eq \"info\": saw \"error\"")
	require.Equal(t, 0, stop(), "logs:\n%s", logs)
}
