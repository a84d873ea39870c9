// Package attune holds the domain of the attune automation engine: packs, actions, triggers, rules,
// events, enforcements and executions, their statuses, and the sentinel errors every adapter maps
// its failures onto. It imports only the standard library; the adapters (db, runtimes, packs,
// rules, jobs, sensors) are named after what they wrap and depend on this package, never the
// other way round.
package attune

import "errors"

// ErrNotFound is returned when a referenced pack, action, rule, event or execution does not exist.
var ErrNotFound = errors.New("not found")

// ErrConflict is returned when a write loses a compare-and-set race or breaks a uniqueness rule.
var ErrConflict = errors.New("conflict")

// ErrInvalid is returned, wrapped with detail, when user input fails validation.
var ErrInvalid = errors.New("invalid")
