// Package packs reads and validates pack directories into [attune.Pack] values, and carries the
// built-in core pack and a demo pack embedded in the binary.
//
// A pack directory holds pack.yaml, actions/*.yaml (with the scripts they name as entry_point),
// triggers/*.yaml and rules/*.yaml. The format follows the predecessor attune and StackStorm
// closely enough that their packs need few edits: `name` is accepted for `ref`, StackStorm's
// runner_type names map onto attune runtimes, and a rule may use StackStorm's
// `action: {ref, parameters}` and `trigger: {type, parameters}` forms.
//
// Loading never stops at the first mistake: [Load] returns [Errors] listing every problem found,
// each as "file:line:col: message", so a pack author can fix them all in one pass. A rule's refs
// into the core pack are checked against the core pack built into the binary; refs into any
// other pack can only be checked against a database, and [ValidateDir] returns them as warnings.
//
// [MergeConfig] merges a site's overrides into a pack's config defaults.
package packs
