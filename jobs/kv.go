package jobs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/db"
	"github.com/attune-run/attune/secrets"
)

// KeyWrite is one datastore write: attune key set, core.kv_set.
type KeyWrite struct {
	Scope  string // "" means system
	Name   string
	Value  string
	Secret bool          // sealed under secrets.key
	TTL    time.Duration // 0: never expires
}

// SetKey validates and writes a key in the caller's transaction; a secret value is sealed
// first. Bad input (a name with spaces or "/", a value over 1 MiB, a negative TTL, a bad scope)
// is an error wrapping attune.ErrInvalid; a secret with no secrets.key wraps secrets.ErrNoKey.
// Either way nothing is written.
func (p *Pipeline) SetKey(ctx context.Context, q *db.Queries, w KeyWrite) (attune.Key, error) {
	if w.Scope == "" {
		w.Scope = attune.ScopeSystem
	}
	if err := errors.Join(attune.ValidateKeyScope(w.Scope), attune.ValidateKeyName(w.Name),
		attune.ValidateKeyValue(w.Value), attune.ValidateKeyTTL(w.TTL)); err != nil {
		return attune.Key{}, err
	}
	now := p.now()
	k := db.NewKey{Scope: w.Scope, Name: w.Name, Value: w.Value, Now: now}
	if w.TTL > 0 {
		at := now.Add(w.TTL)
		k.ExpiresAt = &at
	}
	if w.Secret {
		if p.Secrets == nil {
			return attune.Key{}, fmt.Errorf("key %s: a secret key is stored encrypted: %w", w.Name, secrets.ErrNoKey)
		}
		k.Value, k.Sealed = "", p.Secrets.Seal([]byte(w.Value))
	}
	stored, err := q.KeySet(ctx, k)
	return stored.Key, err
}

// GetKey reads a key that has not expired; a missing or expired key is attune.ErrNotFound. A
// secret key's Value is "" unless decrypt, which needs secrets.key.
func (p *Pipeline) GetKey(ctx context.Context, q *db.Queries, scope, name string, decrypt bool) (attune.Key, error) {
	if scope == "" {
		scope = attune.ScopeSystem
	}
	if decrypt && p.Secrets == nil {
		return attune.Key{}, fmt.Errorf("cannot decrypt key %s: %w", name, secrets.ErrNoKey)
	}
	k, err := q.Key(ctx, scope, name, p.now())
	if err != nil || !k.Secret || !decrypt {
		return k.Key, err
	}
	plain, err := p.Secrets.Open(k.Sealed)
	if err != nil {
		return attune.Key{}, fmt.Errorf("key %s.%s: %w", scope, name, err)
	}
	k.Value = string(plain)
	return k.Key, nil
}

// kvReader is the datastore as templates and criteria see it during one pipeline step
// (rules.KV): keys are read one by one, when an expression reads them, in the step's
// transaction, and as of the step's clock, so a key past its expiry is missing at once.
type kvReader struct {
	ctx context.Context
	q   *db.Queries
	p   *Pipeline
	now time.Time
	err error // the first database error, which fails the step rather than the rule
}

func (p *Pipeline) kvReader(ctx context.Context, q *db.Queries) *kvReader {
	return &kvReader{ctx: ctx, q: q, p: p, now: p.now()}
}

// LookupKey implements rules.KV.
func (r *kvReader) LookupKey(scope, name string) (string, bool, bool, error) {
	k, err := r.q.Key(r.ctx, scope, name, r.now)
	if errors.Is(err, attune.ErrNotFound) {
		return "", false, false, nil
	}
	if err != nil {
		if r.err == nil {
			r.err = err
		}
		return "", false, false, err
	}
	return k.Value, k.Secret, true, nil
}

// DecryptKey implements rules.KV.
func (r *kvReader) DecryptKey(scope, name string) (string, error) {
	if r.p.Secrets == nil {
		return "", secrets.ErrNoKey
	}
	k, err := r.q.Key(r.ctx, scope, name, r.now)
	if err != nil {
		if !errors.Is(err, attune.ErrNotFound) && r.err == nil {
			r.err = err
		}
		return "", err
	}
	plain, err := r.p.Secrets.Open(k.Sealed)
	if err != nil {
		return "", err
	}
	return string(plain), nil
}
