// Package rules decides whether a rule matches an event and renders the rule's action parameters.
//
// It is pure: no I/O, no clock, no logging. Criteria are compiled once when a rule is registered
// (CompileCriteria; CriteriaCache keeps them per rule for the event processor) and evaluated per
// event (Criteria.Match), which says for a miss which criterion failed and the value it saw.
// Parameter templates are checked at registration (CheckTemplates) and rendered per enforcement
// (Render). Both criteria expressions and templates use the expr-lang/expr language, with its
// builtins (upper, lower, trim, split, join, len, now, date, duration, toJSON, fromJSON, filter,
// map, …), and see the same Env:
//
//	event   {"id", "trigger_ref", "payload", "created_at"}
//	rule    {"id", "ref", "pack_ref", "trigger_ref", "action_ref"}
//	pack    {"ref", "config"}
//	system  {"now" (a time.Time), "timestamp", "rule": {"id", "ref"}}
//	trigger the event payload, under StackStorm's name
//	st2kv   the datastore, read lazily by key: st2kv.system.NAME, st2kv.user.NAME.KEY (see WithKV)
//	kv      the same, under attune's name
//	config_context  the pack config, under StackStorm's name (pack.config; secret keys ********)
//
// NewEnv builds that Env from domain values; its now is the only clock (system.now, and the
// timediff operators). A missing key reads as nil in criteria, as StackStorm reads a missing
// field as None; in templates it is an error naming the path, unless the template supplies a
// default (`event.payload.x ?? "none"`) or reads on optionally (`event.payload.user?.name`).
// Compiled expr programs are cached by source text, so rendering the same template again does
// not recompile it.
//
// What an evaluation may allocate is bounded before it is allocated (see ExpressionBudget and
// MaxRenderedBytes in budget.go): a payload is user input, and one costly template must not
// take down the replica that evaluates it.
package rules
