package jobs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/db"
	"github.com/attune-run/attune/runtimes"
)

// kvRunner is the kv runtime, core's in-process database actions: core.kv_set, core.kv_get and
// core.inject_trigger, each in its own transaction. A secret key's value never enters a result: kv_get answers secret: true and no
// value.
type kvRunner struct{ p *Pipeline }

// Core datastore actions, by the name after "core.".
const (
	kvActionSet = "core.kv_set"
	kvActionGet = "core.kv_get"
	// injectAction is StackStorm's core.inject_trigger: it emits an event.
	injectAction = "core.inject_trigger"
)

// Run implements runtimes.Runner. Bad input (a bad name, a value too long, no secrets.key for
// a secret) fails the action with the reason; nothing is written.
func (r kvRunner) Run(ctx context.Context, req runtimes.Request) (runtimes.Result, error) {
	start := time.Now()
	var data map[string]any
	var err error
	switch req.Action.Ref {
	case kvActionSet:
		data, err = r.set(ctx, req.Parameters)
	case kvActionGet:
		data, err = r.get(ctx, req.Parameters)
	case injectAction:
		data, err = r.inject(ctx, req.Parameters)
	default:
		err = fmt.Errorf("the kv runtime runs %s, %s and %s, not %s", kvActionSet, kvActionGet, injectAction, req.Action.Ref)
	}
	if err != nil {
		return runtimes.Result{Status: attune.StatusFailed, ExitCode: -1, Error: err.Error(), Duration: time.Since(start)}, nil
	}
	return runtimes.Result{Status: attune.StatusCompleted, Data: data, Duration: time.Since(start)}, nil
}

func (r kvRunner) set(ctx context.Context, params map[string]any) (map[string]any, error) {
	w := KeyWrite{Scope: str(params["scope"]), Name: str(params["name"]), Value: str(params["value"]), Secret: params["secret"] == true}
	if sv, ok := params["secret_value"].(string); ok {
		w.Value, w.Secret = sv, true
	}
	if ttl, ok := number(params["ttl"]); ok {
		w.TTL = time.Duration(ttl * float64(time.Second))
	}
	var k attune.Key
	err := r.p.DB.InTx(ctx, func(q *db.Queries) error {
		var err error
		k, err = r.p.SetKey(ctx, q, w)
		return err
	})
	if err != nil {
		return nil, err
	}
	return keyData(k, true), nil
}

func (r kvRunner) get(ctx context.Context, params map[string]any) (map[string]any, error) {
	scope, name := str(params["scope"]), str(params["name"])
	if scope == "" {
		scope = attune.ScopeSystem
	}
	k, err := r.p.GetKey(ctx, r.p.DB.AutoCommit(), scope, name, false)
	if errors.Is(err, attune.ErrNotFound) {
		return map[string]any{"scope": scope, "name": name, "found": false, "value": nil}, nil
	}
	if err != nil {
		return nil, err
	}
	return keyData(k, true), nil
}

// inject emits an event on params' trigger with its payload, as attune event emit does: the
// event and its attune.event.process job in one transaction (Pipeline.EmitEvent).
func (r kvRunner) inject(ctx context.Context, params map[string]any) (map[string]any, error) {
	trigger := str(params["trigger"])
	ok, err := r.p.DB.AutoCommit().TriggerExists(ctx, trigger)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("trigger %q is not registered; register the pack that defines it", trigger)
	}
	if attune.IsTimerTrigger(trigger) {
		return nil, fmt.Errorf("%s is a timer trigger: each timer rule fires its own events; inject a trigger your pack defines", trigger)
	}
	payload, _ := params["payload"].(map[string]any)
	if payload == nil {
		payload = map[string]any{}
	}
	ev, err := r.p.EmitEvent(ctx, db.NewEvent{TriggerRef: trigger, Payload: payload})
	if err != nil {
		return nil, err
	}
	return map[string]any{"event_id": ev.ID, "trigger": trigger}, nil
}

// keyData is a key as an action's result: a secret key shows no value.
func keyData(k attune.Key, found bool) map[string]any {
	d := map[string]any{"scope": k.Scope, "name": k.Name, "found": found, "secret": k.Secret, "value": k.Value, "expires_at": nil}
	if k.Secret {
		d["value"] = nil
	}
	if k.ExpiresAt != nil {
		d["expires_at"] = k.ExpiresAt.UTC().Format(time.RFC3339Nano)
	}
	return d
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// number reads a JSON number parameter.
func number(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case interface{ Float64() (float64, error) }:
		f, err := n.Float64()
		return f, err == nil
	}
	return 0, false
}
