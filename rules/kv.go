package rules

import (
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/expr-lang/expr/ast"

	"github.com/attune-run/attune"
)

// The datastore in templates and criteria. `st2kv.system.NAME` (StackStorm's spelling) and
// `kv.system.NAME` (attune's) read key NAME of scope system; `st2kv.user.alice.NAME` reads
// scope user:alice; `st2kv.system["done_" + event.payload.host]` computes the name. Keys are
// looked up one at a time, when an expression reads them, through the KV the caller gave
// WithKV, and each is read once per Env. A missing or expired key reads as nil (in a template,
// like any missing value, it is an error unless a default is given with `??`). A secret key
// reads as a SecretKey, which nothing can render or compare with text: only decrypt_kv(…) opens
// it, and CheckSecretParams / DecryptingParams tell which parameters do that.
const (
	// RootKV is attune's name for the datastore in templates and criteria.
	RootKV = "kv"
	// RootST2KV is StackStorm's name for the datastore.
	RootST2KV = "st2kv"
	// FnDecryptKV opens a secret key: `decrypt_kv(st2kv.system.pw)` or, as StackStorm writes
	// it, `st2kv.system.pw | decrypt_kv`.
	FnDecryptKV = "decrypt_kv"
)

// KV reads the datastore for one evaluation. Implementations are bound to the context and
// transaction of the step that evaluates (see jobs), so a key written earlier in that
// transaction is seen.
type KV interface {
	// LookupKey reads one key. found is false for a key that does not exist or has expired.
	// A secret key returns secret true and an empty value.
	LookupKey(scope, name string) (value string, secret, found bool, err error)
	// DecryptKey returns the plaintext of a secret key.
	DecryptKey(scope, name string) (string, error)
}

// WithKV returns env with the datastore roots (st2kv, kv) reading from kv. Without it, every
// key reads as missing.
func (env Env) WithKV(kv KV) Env {
	root := &kvRoot{kv: kv, cache: map[[2]string]kvEntry{}}
	env[RootKV], env[RootST2KV] = root, root
	return env
}

// kvRoot is the value of the st2kv and kv roots.
type kvRoot struct {
	kv    KV // nil: every key is missing
	mu    sync.Mutex
	cache map[[2]string]kvEntry
}

// kvEntry is one key as read, cached for the Env's lifetime.
type kvEntry struct {
	value         string
	secret, found bool
	err           error
}

// kvUsers is `st2kv.user`: its keys are user names.
type kvUsers struct{ root *kvRoot }

// kvScope is one scope of the datastore: its keys are key names.
type kvScope struct {
	root  *kvRoot
	scope string
}

// SecretKey is what reading a secret key yields: a reference, not the value. decrypt_kv opens
// it; rendering it, or encoding it as JSON, is an error saying how to pass it on.
type SecretKey struct {
	Scope, Name string
	root        *kvRoot
}

// MarshalJSON refuses: a secret key's value is given only through decrypt_kv into a secret
// parameter.
func (k SecretKey) MarshalJSON() ([]byte, error) {
	return nil, fmt.Errorf("key %s is secret: write %s(st2kv.%s) into a parameter marked secret: true", k.ref(), FnDecryptKV, k.ref())
}

func (k SecretKey) ref() string { return scopeRef(k.Scope) + "." + k.Name }

// scopeRef writes a scope as a template reads it: system, user.alice.
func scopeRef(scope string) string {
	if user, ok := cutUser(scope); ok {
		return "user." + user
	}
	return scope
}

func cutUser(scope string) (string, bool) {
	if len(scope) > len(attune.ScopeUserPrefix) && scope[:len(attune.ScopeUserPrefix)] == attune.ScopeUserPrefix {
		return scope[len(attune.ScopeUserPrefix):], true
	}
	return "", false
}

// MarshalJSON refuses: the datastore itself is not a value.
func (*kvRoot) MarshalJSON() ([]byte, error) {
	return nil, errors.New("st2kv is the datastore, not a value: name a key, e.g. st2kv.system.NAME")
}

// MarshalJSON refuses: a scope is not a value.
func (kvUsers) MarshalJSON() ([]byte, error) {
	return nil, errors.New("st2kv.user is the user scopes, not a value: name a user and a key, e.g. st2kv.user.alice.NAME")
}

// MarshalJSON refuses: a scope is not a value.
func (s kvScope) MarshalJSON() ([]byte, error) {
	return nil, fmt.Errorf("st2kv.%s is a scope, not a value: name a key, e.g. st2kv.%s.NAME", scopeRef(s.scope), scopeRef(s.scope))
}

// fetchKV is fetch for the datastore values; handled is false for any other base.
func fetchKV(base, key any) (v any, found, handled bool, err error) {
	switch b := base.(type) {
	case *kvRoot:
		switch key {
		case attune.ScopeSystem:
			return kvScope{root: b, scope: attune.ScopeSystem}, true, true, nil
		case "user":
			return kvUsers{root: b}, true, true, nil
		}
		return nil, false, true, fmt.Errorf("the datastore has scopes system and user; got %s", brief(key))
	case kvUsers:
		user, ok := key.(string)
		if !ok {
			return nil, false, true, fmt.Errorf("a user name must be a string; got %s", brief(key))
		}
		return kvScope{root: b.root, scope: attune.ScopeUserPrefix + user}, true, true, nil
	case kvScope:
		name, ok := key.(string)
		if !ok {
			return nil, false, true, fmt.Errorf("a key name must be a string; got %s", brief(key))
		}
		e := b.root.lookup(b.scope, name)
		switch {
		case e.err != nil:
			return nil, false, true, e.err
		case !e.found:
			return nil, false, true, nil
		case e.secret:
			return SecretKey{Scope: b.scope, Name: name, root: b.root}, true, true, nil
		}
		return e.value, true, true, nil
	}
	return nil, false, false, nil
}

// lookup reads a key once per Env.
func (r *kvRoot) lookup(scope, name string) kvEntry {
	if r.kv == nil {
		return kvEntry{}
	}
	k := [2]string{scope, name}
	r.mu.Lock()
	defer r.mu.Unlock()
	if e, ok := r.cache[k]; ok {
		return e
	}
	var e kvEntry
	e.value, e.secret, e.found, e.err = r.kv.LookupKey(scope, name)
	if e.err != nil {
		e.err = fmt.Errorf("read key %s.%s: %w", scopeRef(scope), name, e.err)
	}
	r.cache[k] = e
	return e
}

// decryptKV is decrypt_kv(key): the plaintext of a secret key. nil (a missing key read with
// `?.` or `??`) stays nil; anything else that is not a secret key is an error.
func decryptKV(params ...any) (any, error) {
	if len(params) != 1 {
		return nil, fmt.Errorf("%s takes one key, e.g. %s(st2kv.system.NAME); got %d arguments", FnDecryptKV, FnDecryptKV, len(params))
	}
	switch k := params[0].(type) {
	case nil:
		return nil, nil
	case SecretKey:
		if k.root == nil || k.root.kv == nil {
			return nil, fmt.Errorf("%s: key %s: the datastore is not available here", FnDecryptKV, k.ref())
		}
		v, err := k.root.kv.DecryptKey(k.Scope, k.Name)
		if err != nil {
			return nil, fmt.Errorf("%s: key %s: %w", FnDecryptKV, k.ref(), err)
		}
		return v, nil
	}
	return nil, fmt.Errorf("%s: %s is not a secret key; read a key that is not secret without it", FnDecryptKV, brief(params[0]))
}

// DecryptingParams returns, sorted, the top-level parameters of params whose templates call
// decrypt_kv: the only way a secret key's value reaches an action. The check is exact, because
// expr cannot pass a function around as a value. A template that does not compile is an error
// (see CheckTemplates).
func DecryptingParams(params map[string]any) ([]string, error) {
	var out []string
	for name, v := range params {
		decrypts := false
		_, err := walk(childPath(paramsRoot, name), v, func(path, s string) (any, error) {
			segs, _, err := scanTemplates(path, s)
			if err != nil {
				return nil, err
			}
			for _, seg := range segs {
				if !seg.template {
					continue
				}
				p, err := compileTemplate(path, seg)
				if err != nil {
					return nil, err
				}
				if callsDecrypt(p.Node()) {
					decrypts = true
				}
			}
			return s, nil
		})
		if err != nil {
			return nil, err
		}
		if decrypts {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out, nil
}

// callsDecrypt reports whether the tree calls decrypt_kv.
func callsDecrypt(root ast.Node) bool {
	found := false
	ast.Walk(&root, visitFunc(func(n ast.Node) {
		if c, ok := n.(*ast.CallNode); ok {
			if id, ok := c.Callee.(*ast.IdentifierNode); ok && id.Value == FnDecryptKV {
				found = true
			}
		}
	}))
	return found
}

// CheckSecretParams returns an error naming every parameter of params that decrypts a secret key
// (decrypt_kv) but is not marked secret: true in schema, where its value would be stored and
// shown in clear. The error wraps attune.ErrInvalid. Templates that do not compile are left to
// CheckTemplates and Render.
func CheckSecretParams(params map[string]any, schema attune.ParamSchema) error {
	names, err := DecryptingParams(params)
	if err != nil {
		return nil // a template that does not compile is CheckTemplates' and Render's to report
	}
	var bad []string
	for _, n := range names {
		if !schema[n].Secret {
			bad = append(bad, n)
		}
	}
	if len(bad) == 0 {
		return nil
	}
	return invalid("%s.%s: decrypts a secret key with %s, but the action's parameter %s is not marked secret: true; "+
		"its value would be stored and shown in clear: mark the parameter secret, or do not decrypt", paramsRoot, bad[0], FnDecryptKV, quoteList(bad))
}

func quoteList(names []string) string {
	out := ""
	for i, n := range names {
		if i > 0 {
			out += ", "
		}
		out += fmt.Sprintf("%q", n)
	}
	return out
}
