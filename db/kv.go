package db

import (
	"context"
	"fmt"
	"time"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/db/internal/dbsqlc"
)

// StoredKey is a datastore key as stored: the key, and for a secret key its sealed value
// (attune.Key.Value is then "").
type StoredKey struct {
	attune.Key
	Sealed []byte
}

// NewKey is a key to write. A secret key carries its value sealed and Value "".
type NewKey struct {
	Scope, Name string
	Value       string
	Sealed      []byte // set for a secret key
	ExpiresAt   *time.Time
	Now         time.Time // updated_at
}

// KeySet creates or replaces a key.
func (q *Queries) KeySet(ctx context.Context, k NewKey) (StoredKey, error) {
	r, err := q.q.KeySet(ctx, dbsqlc.KeySetParams{
		Scope: k.Scope, Name: k.Name, Value: k.Value, Secret: k.Sealed != nil, Sealed: k.Sealed,
		ExpiresAt: k.ExpiresAt, Now: k.Now,
	})
	if err != nil {
		return StoredKey{}, fmt.Errorf("set key %s.%s: %w", k.Scope, k.Name, err)
	}
	return toKey(r), nil
}

// Key reads a key that has not expired by now; a missing or expired key is attune.ErrNotFound.
func (q *Queries) Key(ctx context.Context, scope, name string, now time.Time) (StoredKey, error) {
	r, err := q.q.KeyGet(ctx, dbsqlc.KeyGetParams{Scope: scope, Name: name, Now: now})
	if err != nil {
		return StoredKey{}, notFound(err, "key", scope+"."+name)
	}
	return toKey(r), nil
}

// Keys lists the keys not expired by now whose names start with prefix, in scope ("" for
// every scope), by scope and name.
func (q *Queries) Keys(ctx context.Context, scope, prefix string, now time.Time) ([]StoredKey, error) {
	var sc *string
	if scope != "" {
		sc = &scope
	}
	rows, err := q.q.KeyList(ctx, dbsqlc.KeyListParams{Scope: sc, Prefix: prefix, Now: now})
	if err != nil {
		return nil, fmt.Errorf("list keys: %w", err)
	}
	return mapSlice(rows, toKey), nil
}

// KeyDelete deletes a key, expired or not; a key that does not exist is attune.ErrNotFound.
func (q *Queries) KeyDelete(ctx context.Context, scope, name string) error {
	n, err := q.q.KeyDelete(ctx, dbsqlc.KeyDeleteParams{Scope: scope, Name: name})
	if err != nil {
		return fmt.Errorf("delete key %s.%s: %w", scope, name, err)
	}
	if n == 0 {
		return fmt.Errorf("key %s.%s: %w", scope, name, attune.ErrNotFound)
	}
	return nil
}

// PruneKeys deletes the keys expired by now, batch rows per statement, and returns how many.
func (d *DB) PruneKeys(ctx context.Context, now time.Time, batch int32) (int64, error) {
	var total int64
	for {
		n, err := d.AutoCommit().q.KeyPruneExpired(ctx, dbsqlc.KeyPruneExpiredParams{Now: now, Batch: batch})
		if err != nil {
			return total, fmt.Errorf("prune expired keys: %w", err)
		}
		total += n
		if n < int64(batch) {
			return total, nil
		}
	}
}

func toKey(r dbsqlc.AttuneKv) StoredKey {
	return StoredKey{
		Key: attune.Key{
			Scope: r.Scope, Name: r.Name, Value: r.Value, Secret: r.Secret,
			ExpiresAt: r.ExpiresAt, UpdatedAt: r.UpdatedAt,
		},
		Sealed: r.Sealed,
	}
}
