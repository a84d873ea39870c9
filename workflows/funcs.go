package workflows

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/attune-run/attune/rules"
)

// envKey holds the workflow Env in the map an expression runs against; expressions cannot name it.
const envKey = "\x00attune_workflow_env"

// ctxRoot is Orquesta's Jinja shorthand for ctx(): {{ _.name }}.
const ctxRoot = "_"

// language is the rule expression language with the workflow functions. Its Env has one root,
// _, the context; everything else an expression reads comes through a function.
var language = rules.NewLanguage("workflows", []string{ctxRoot}, map[string]rules.Func{
	"ctx":       fnCtx,
	"result":    fnResult,
	"succeeded": statusFunc("succeeded", func(s string) bool { return s == "succeeded" }),
	"failed":    statusFunc("failed", func(s string) bool { return s == "failed" }),
	"completed": statusFunc("completed", func(s string) bool {
		return s == "succeeded" || s == "failed" || s == "cancelled"
	}),
	"item":  fnItem,
	"task":  fnTask,
	"json":  fnJSON,
	"zip":   fnZip,
	"str":   fnStr,
	"bool":  fnBool,
	"st2kv": kvFunc("st2kv"),
	"kv":    kvFunc("kv"),
})

// envOf returns the workflow Env an evaluation carries; nil while type checking.
func envOf(m map[string]any) *Env {
	env, _ := m[envKey].(*Env)
	if env == nil {
		return &Env{}
	}
	return env
}

// fnCtx is ctx(): the branch context; ctx(name): one variable of it, an error when absent.
func fnCtx(m map[string]any, _ *rules.Budget, args ...any) (any, error) {
	env := envOf(m)
	if err := arity("ctx", args, 0, 1); err != nil {
		return nil, err
	}
	if len(args) == 0 {
		if env.Ctx == nil {
			return map[string]any{}, nil
		}
		return env.Ctx, nil
	}
	name, ok := args[0].(string)
	if !ok {
		return nil, fmt.Errorf("ctx(name): the name must be a string, got %T", args[0])
	}
	v, ok := env.Ctx[name]
	if !ok {
		return nil, fmt.Errorf("ctx(%s): no variable %q in the context; it has %s", name, name, known(env.Ctx))
	}
	return v, nil
}

// known lists the keys of m for a message.
func known(m map[string]any) string {
	if len(m) == 0 {
		return "none"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return strings.Join(keys, ", ")
}

// fnResult is result(): the task's result.
func fnResult(m map[string]any, _ *rules.Budget, args ...any) (any, error) {
	if err := arity("result", args, 0, 0); err != nil {
		return nil, err
	}
	return envOf(m).Result, nil
}

// statusFunc is succeeded(), failed() or completed(): whether the task's status is one of them.
func statusFunc(name string, test func(string) bool) rules.Func {
	return func(m map[string]any, _ *rules.Budget, args ...any) (any, error) {
		if err := arity(name, args, 0, 0); err != nil {
			return nil, err
		}
		return test(envOf(m).TaskStatus), nil
	}
}

// fnItem is item(): the current with-items element; item(name): one of its named variables.
func fnItem(m map[string]any, _ *rules.Budget, args ...any) (any, error) {
	if err := arity("item", args, 0, 1); err != nil {
		return nil, err
	}
	item := envOf(m).Item
	if len(args) == 0 {
		return item, nil
	}
	name, _ := args[0].(string)
	vars, ok := item.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("item(%v): this task's with-items names no variables; write item() or with: \"%v in …\"", args[0], args[0])
	}
	v, ok := vars[name]
	if !ok {
		return nil, fmt.Errorf("item(%v): with-items has no variable %q; it has %s", args[0], name, known(vars))
	}
	return v, nil
}

// fnTask is task(name): {status, result, start_timestamp, end_timestamp} of a task of this
// workflow.
func fnTask(m map[string]any, _ *rules.Budget, args ...any) (any, error) {
	if err := arity("task", args, 1, 1); err != nil {
		return nil, err
	}
	name, ok := args[0].(string)
	if !ok {
		return nil, fmt.Errorf("task(name): the name must be a string, got %T", args[0])
	}
	env := envOf(m)
	if env.Task == nil {
		return nil, fmt.Errorf("task(%s): no task states are available here", name)
	}
	st, ok := env.Task(name)
	if !ok {
		return nil, fmt.Errorf("task(%s): task %q has not run in this workflow", name, name)
	}
	return map[string]any{
		"status":          st.Status,
		"result":          st.Result,
		"start_timestamp": timestamp(st.StartTimestamp),
		"end_timestamp":   timestamp(st.EndTimestamp),
	}, nil
}

// timestamp renders t as RFC 3339 in UTC, nil for nil.
func timestamp(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// fnJSON is json(s): the JSON text s decoded.
func fnJSON(_ map[string]any, b *rules.Budget, args ...any) (any, error) {
	if err := arity("json", args, 1, 1); err != nil {
		return nil, err
	}
	s, ok := args[0].(string)
	if !ok {
		return nil, fmt.Errorf("json(s): s must be a string of JSON text, got %T", args[0])
	}
	if err := b.Charge("json", 8*len(s)); err != nil {
		return nil, err
	}
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		return nil, fmt.Errorf("json(s): %v", err)
	}
	return v, nil
}

// fnZip is zip(a, b): the list of pairs [a[i], b[i]], as long as the shorter list.
func fnZip(_ map[string]any, b *rules.Budget, args ...any) (any, error) {
	if err := arity("zip", args, 2, 2); err != nil {
		return nil, err
	}
	a, ok1 := list(args[0])
	c, ok2 := list(args[1])
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("zip(a, b): both must be lists, got %T and %T", args[0], args[1])
	}
	n := min(len(a), len(c))
	if err := b.Charge("zip", 64*n); err != nil {
		return nil, err
	}
	out := make([]any, n)
	for i := range n {
		out[i] = []any{a[i], c[i]}
	}
	return out, nil
}

// list returns v as a []any when it is a list of any element type.
func list(v any) ([]any, bool) {
	if l, ok := v.([]any); ok {
		return l, true
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Slice && rv.Kind() != reflect.Array {
		return nil, false
	}
	out := make([]any, rv.Len())
	for i := range out {
		out[i] = rv.Index(i).Interface()
	}
	return out, true
}

// fnStr is str(x): x as text. Strings are themselves, null is "null", whole numbers have no
// decimal point, and lists and maps are compact JSON.
func fnStr(_ map[string]any, b *rules.Budget, args ...any) (any, error) {
	if err := arity("str", args, 1, 1); err != nil {
		return nil, err
	}
	if err := b.Charge("str", rules.JSONSize(args[0], rules.ExpressionBudget)); err != nil {
		return nil, err
	}
	switch v := args[0].(type) {
	case nil:
		return "null", nil
	case float64:
		if v == math.Trunc(v) && math.Abs(v) < 1e15 {
			return strconv.FormatInt(int64(v), 10), nil
		}
	}
	return rules.Interpolate(args[0])
}

// fnBool is bool(x): x's truth, as a condition reads it.
func fnBool(_ map[string]any, _ *rules.Budget, args ...any) (any, error) {
	if err := arity("bool", args, 1, 1); err != nil {
		return nil, err
	}
	return truthy(args[0]), nil
}

// kvFunc is st2kv('system.name') or kv('system.name'): a datastore value, as text;
// 'user.alice.name' reads key name of scope user:alice.
func kvFunc(fn string) rules.Func {
	return func(m map[string]any, _ *rules.Budget, args ...any) (any, error) {
		if err := arity(fn, args, 1, 1); err != nil {
			return nil, err
		}
		key, _ := args[0].(string)
		scope, name, ok := strings.Cut(key, ".")
		if scope == "user" { // user.alice.name: key name of scope user:alice, as in rules
			var user string
			user, name, ok = strings.Cut(name, ".")
			scope += ":" + user
		}
		if !ok || scope == "" || name == "" || strings.HasSuffix(scope, ":") {
			return nil, fmt.Errorf("%s(%q): write the key with its scope, such as %s('system.%s')", fn, key, fn, key)
		}
		env := envOf(m)
		if env.KV == nil {
			return nil, fmt.Errorf("%s(%q): the datastore is not available here", fn, key)
		}
		v, found, err := env.KV(scope, name)
		if err != nil {
			return nil, fmt.Errorf("%s(%q): %w", fn, key, err)
		}
		if !found {
			return nil, fmt.Errorf("%s(%q): no such key in scope %s", fn, key, scope)
		}
		return v, nil
	}
}

// arity checks that a function got between lo and hi arguments.
func arity(fn string, args []any, lo, hi int) error {
	if len(args) < lo || len(args) > hi {
		return fmt.Errorf("%s() takes %s, not %d", fn, arityText([2]int{lo, hi}), len(args))
	}
	return nil
}

// truthy is YAQL's and Jinja's truth: nil, false, zero, "" and empty lists and maps are false.
func truthy(v any) bool {
	switch v := v.(type) {
	case nil:
		return false
	case bool:
		return v
	case string:
		return v != ""
	case float64:
		return v != 0
	case int:
		return v != 0
	case json.Number:
		f, err := v.Float64()
		return err != nil || f != 0
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Slice, reflect.Array, reflect.Map:
		return rv.Len() > 0
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return rv.Int() != 0
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return rv.Uint() != 0
	case reflect.Float32:
		return rv.Float() != 0
	}
	return true
}
