package httpapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/db"
	"github.com/attune-run/attune/jobs"
	"github.com/attune-run/attune/secrets"
)

// keyView is a datastore key as the API shows it. A secret key's value is never sent: it reads
// null (`attune key get NAME --decrypt` on a machine with secrets.key shows it).
type keyView struct {
	Scope     string     `json:"scope"`
	Name      string     `json:"name"`
	Value     *string    `json:"value"`
	Secret    bool       `json:"secret"`
	ExpiresAt *time.Time `json:"expires_at"`
	UpdatedAt time.Time  `json:"updated_at"`
}

func toKeyView(k attune.Key) keyView {
	v := keyView{Scope: k.Scope, Name: k.Name, Secret: k.Secret, ExpiresAt: k.ExpiresAt, UpdatedAt: k.UpdatedAt}
	if !k.Secret {
		val := k.Value
		v.Value = &val
	}
	return v
}

// keyScope reads the scope query parameter (default system), answering 400 when it is bad.
func keyScope(w http.ResponseWriter, r *http.Request, def string) (string, bool) {
	scope := r.URL.Query().Get("scope")
	if scope == "" {
		return def, true
	}
	if err := attune.ValidateKeyScope(scope); err != nil {
		var fe fields
		fe.add("scope", "%v", err)
		return "", !badQuery(w, fe)
	}
	return scope, true
}

// listKeys: GET /api/v1/keys?scope=&prefix= lists the keys that have not expired (every scope
// unless scope is given), by scope and name.
func (s *Server) listKeys(w http.ResponseWriter, r *http.Request) {
	scope, ok := keyScope(w, r, "")
	if !ok {
		return
	}
	ks, err := s.d.DB.AutoCommit().Keys(r.Context(), scope, r.URL.Query().Get("prefix"), time.Now())
	if err != nil {
		s.internal(w, r, err)
		return
	}
	out := make([]keyView, len(ks))
	for i, k := range ks {
		out[i] = toKeyView(k.Key)
	}
	writeJSON(w, http.StatusOK, out)
}

// getKey: GET /api/v1/keys/{name}?scope= (default system). A missing or expired key is 404.
func (s *Server) getKey(w http.ResponseWriter, r *http.Request) {
	scope, ok := keyScope(w, r, attune.ScopeSystem)
	if !ok {
		return
	}
	k, err := s.d.Pipeline.GetKey(r.Context(), s.d.DB.AutoCommit(), scope, r.PathValue("name"), false)
	if errors.Is(err, attune.ErrNotFound) {
		writeProblem(w, problem(http.StatusNotFound, "key %s.%s does not exist or has expired; GET /api/v1/keys lists the keys", scope, r.PathValue("name")))
		return
	}
	if err != nil {
		s.internal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toKeyView(k))
}

// putKey: PUT /api/v1/keys/{name}?scope= {value, secret?, ttl?} creates or replaces a key, as
// `attune key set` (jobs.Pipeline.SetKey). ttl is in seconds, or a duration such as "1h".
func (s *Server) putKey(w http.ResponseWriter, r *http.Request) {
	scope, ok := keyScope(w, r, attune.ScopeSystem)
	if !ok {
		return
	}
	body, p := decodeObject(r)
	if p != nil {
		writeProblem(w, p)
		return
	}
	kw := jobs.KeyWrite{Scope: scope, Name: r.PathValue("name")}
	var fe fields
	fe.unknownFields(body, "value", "secret", "ttl")
	if err := attune.ValidateKeyName(kw.Name); err != nil {
		fe.add("name", "%v", err)
	}
	if raw, ok := body["value"]; !ok {
		fe.add("value", "required: the key's value, a string (JSON stays text until it is parsed)")
	} else if err := json.Unmarshal(raw, &kw.Value); err != nil {
		fe.add("value", "must be a string, got %s", clipJSON(raw))
	} else if err := attune.ValidateKeyValue(kw.Value); err != nil {
		fe.add("value", "%v", err)
	}
	if raw, ok := body["secret"]; ok && json.Unmarshal(raw, &kw.Secret) != nil {
		fe.add("secret", "must be true or false, got %s", clipJSON(raw))
	}
	if raw, ok := body["ttl"]; ok && string(raw) != "null" {
		kw.TTL = parseTTL(raw, &fe)
	}
	if p := fe.problem("the request has invalid fields; nothing was stored"); p != nil {
		writeProblem(w, p)
		return
	}
	var k attune.Key
	err := s.d.DB.InTx(r.Context(), func(q *db.Queries) error {
		var err error
		k, err = s.d.Pipeline.SetKey(r.Context(), q, kw)
		return err
	})
	switch {
	case errors.Is(err, secrets.ErrNoKey):
		fe.add("secret", "%v", err)
		writeProblem(w, fe.problem("a secret key needs the server's secrets.key; nothing was stored"))
	case errors.Is(err, attune.ErrInvalid):
		fe.add("name", "%v", err)
		writeProblem(w, fe.problem("the key is invalid; nothing was stored"))
	case err != nil:
		s.internal(w, r, err)
	default:
		writeJSON(w, http.StatusOK, toKeyView(k))
	}
}

// parseTTL reads ttl: whole seconds, or a Go duration string such as "90m"; it must be positive.
func parseTTL(raw json.RawMessage, fe *fields) time.Duration {
	var sec int64
	if err := json.Unmarshal(raw, &sec); err == nil {
		if sec < 1 {
			fe.add("ttl", "must be positive (seconds, or a duration such as \"1h\"), got %d", sec)
		}
		return time.Duration(sec) * time.Second
	}
	var str string
	if err := json.Unmarshal(raw, &str); err == nil {
		d, err := time.ParseDuration(str)
		if err != nil || d <= 0 {
			fe.add("ttl", "must be a positive duration such as \"1h\" or whole seconds, got %q", str)
		}
		return d
	}
	fe.add("ttl", "must be whole seconds or a duration such as \"1h\", got %s", clipJSON(raw))
	return 0
}

// deleteKey: DELETE /api/v1/keys/{name}?scope= deletes a key (expired or not): 204, or 404.
func (s *Server) deleteKey(w http.ResponseWriter, r *http.Request) {
	scope, ok := keyScope(w, r, attune.ScopeSystem)
	if !ok {
		return
	}
	err := s.d.DB.AutoCommit().KeyDelete(r.Context(), scope, r.PathValue("name"))
	if errors.Is(err, attune.ErrNotFound) {
		writeProblem(w, problem(http.StatusNotFound, "key %s.%s does not exist", scope, r.PathValue("name")))
		return
	}
	if err != nil {
		s.internal(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
