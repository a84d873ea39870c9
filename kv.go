package attune

import (
	"fmt"
	"strings"
	"time"
)

// Key is one entry of the datastore: a text value under a name in a scope, as StackStorm's
// key-value pairs are. JSON stays text until a template parses it (fromJSON).
type Key struct {
	Scope string
	Name  string
	// Value is the text; "" for a secret key read without decrypting it.
	Value string
	// Secret keys are stored sealed under secrets.key and reach an action only through a
	// parameter marked secret.
	Secret    bool
	ExpiresAt *time.Time // nil: never expires
	UpdatedAt time.Time
}

// Datastore scopes. A user scope is "user:<name>".
const (
	ScopeSystem     = "system"
	ScopeUserPrefix = "user:"
)

// Datastore limits.
const (
	// MaxKeyValue is the largest value a key may hold, in bytes.
	MaxKeyValue = 1 << 20
	// MaxKeyName is the longest key name, in bytes.
	MaxKeyName = 255
)

// ValidateKeyName checks a key name: 1 to MaxKeyName bytes of letters, digits and . _ - :
// (no spaces, no "/"), so that a name reads the same in `st2kv.system.NAME` and in a shell.
// The error wraps ErrInvalid.
func ValidateKeyName(name string) error {
	if name == "" {
		return fmt.Errorf("%w: key name is empty", ErrInvalid)
	}
	if len(name) > MaxKeyName {
		return fmt.Errorf("%w: key name %.40q… is %d bytes; at most %d", ErrInvalid, name, len(name), MaxKeyName)
	}
	for i, r := range name {
		if !(r == '_' || r == '-' || r == '.' || r == ':' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return fmt.Errorf("%w: key name %q has %q at byte %d; use letters, digits and . _ - : (no spaces, no /)",
				ErrInvalid, name, r, i)
		}
	}
	return nil
}

// ValidateKeyScope checks a scope: "system" or "user:<name>" with a non-empty name of the
// characters a key name may hold. The error wraps ErrInvalid.
func ValidateKeyScope(scope string) error {
	if scope == ScopeSystem {
		return nil
	}
	user, ok := strings.CutPrefix(scope, ScopeUserPrefix)
	if !ok || ValidateKeyName(user) != nil {
		return fmt.Errorf("%w: scope %q: want %q or %q followed by a user name", ErrInvalid, scope, ScopeSystem, ScopeUserPrefix)
	}
	return nil
}

// ValidateKeyValue checks a value's size. The error wraps ErrInvalid.
func ValidateKeyValue(value string) error {
	if len(value) > MaxKeyValue {
		return fmt.Errorf("%w: value is %d bytes; a key holds at most %d (1 MiB)", ErrInvalid, len(value), MaxKeyValue)
	}
	return nil
}

// ValidateKeyTTL checks a time to live: zero (never expires) or positive. The error wraps
// ErrInvalid.
func ValidateKeyTTL(ttl time.Duration) error {
	if ttl < 0 {
		return fmt.Errorf("%w: ttl %s is negative; give a positive duration such as 1h, or none for a key that never expires", ErrInvalid, ttl)
	}
	return nil
}
