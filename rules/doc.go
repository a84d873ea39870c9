// Package rules decides whether a rule matches an event and renders the rule's action parameters.
//
// It is pure: no I/O, no clock, no logging. Criteria are compiled once when a rule is registered
// (CompileCriteria) and evaluated per event (Criteria.Match); parameter templates are checked at
// registration (CheckTemplates) and rendered per enforcement (Render). Both criteria expressions
// and templates use the expr-lang/expr language and see the same Env:
//
//	event   {"id", "trigger_ref", "payload", "created_at"}
//	rule    {"id", "ref", "pack_ref", "trigger_ref", "action_ref"}
//	pack    {"ref", "config"}
//	system  {"timestamp"}
//
// NewEnv builds that Env from domain values. Compiled expr programs are cached by source text, so
// rendering the same template again does not recompile it.
package rules
