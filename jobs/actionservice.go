package jobs

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/db"
	"github.com/attune-run/attune/params"
	"github.com/attune-run/attune/runtimes"
)

// actionDatastore is the datastore as one python-script action of pack sees it through
// self.action_service (runtimes.Datastore): the system scope, as StackStorm serves it to
// actions. Any key may be read, written and deleted there, as in StackStorm; a secret key's
// value is handed over decrypted only when it is the pack's own (its name starts with
// "<pack>."): other packs' secrets reach an action only as secret parameters.
type actionDatastore struct {
	p    *Pipeline
	pack string
}

// datastoreFor returns the datastore of a python-script action; nil for other runtimes.
func (p *Pipeline) datastoreFor(action attune.Action) runtimes.Datastore {
	if action.Runtime != attune.RuntimePythonScript {
		return nil
	}
	return actionDatastore{p: p, pack: action.PackRef}
}

// own reports whether name is in the pack's namespace.
func (d actionDatastore) own(name string) bool { return strings.HasPrefix(name, d.pack+".") }

// GetValue implements runtimes.Datastore.
func (d actionDatastore) GetValue(ctx context.Context, name string, decrypt bool) (string, bool, error) {
	var k attune.Key
	err := d.p.DB.InTx(ctx, func(q *db.Queries) error {
		var err error
		k, err = d.p.GetKey(ctx, q, attune.ScopeSystem, name, false)
		if err != nil || !k.Secret || !decrypt {
			return err
		}
		if !d.own(name) {
			return fmt.Errorf("key %q is secret and not pack %s's own (%s.*): attune gives an action other secrets only as secret parameters ({{ st2kv.system.%s | decrypt_kv }} in a rule)",
				name, d.pack, d.pack, name)
		}
		k, err = d.p.GetKey(ctx, q, attune.ScopeSystem, name, true)
		return err
	})
	if errors.Is(err, attune.ErrNotFound) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	if k.Secret && !decrypt {
		return params.Mask, true, nil
	}
	return k.Value, true, nil
}

// SetValue implements runtimes.Datastore.
func (d actionDatastore) SetValue(ctx context.Context, name, value string, ttl time.Duration, encrypt bool) error {
	return d.p.DB.InTx(ctx, func(q *db.Queries) error {
		_, err := d.p.SetKey(ctx, q, KeyWrite{Name: name, Value: value, TTL: ttl, Secret: encrypt})
		return err
	})
}

// DeleteValue implements runtimes.Datastore.
func (d actionDatastore) DeleteValue(ctx context.Context, name string) (bool, error) {
	err := d.p.DB.InTx(ctx, func(q *db.Queries) error {
		return q.KeyDelete(ctx, attune.ScopeSystem, name)
	})
	if errors.Is(err, attune.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// ListValues implements runtimes.Datastore: secret values are masked.
func (d actionDatastore) ListValues(ctx context.Context, prefix string) (map[string]string, error) {
	out := map[string]string{}
	err := d.p.DB.InTx(ctx, func(q *db.Queries) error {
		keys, err := q.Keys(ctx, attune.ScopeSystem, prefix, d.p.now())
		for _, k := range keys {
			out[k.Name] = k.Value
			if k.Secret {
				out[k.Name] = params.Mask
			}
		}
		return err
	})
	return out, err
}
