package httpapi

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/attune-run/attune"
)

// listRules: GET /api/v1/rules.
func (s *Server) listRules(w http.ResponseWriter, r *http.Request) {
	rs, err := s.d.DB.AutoCommit().Rules(r.Context())
	if err != nil {
		s.internal(w, r, err)
		return
	}
	out := make([]ruleView, len(rs))
	for i, rule := range rs {
		out[i] = toRuleView(rule)
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": out})
}

// getRule: GET /api/v1/rules/{ref}.
func (s *Server) getRule(w http.ResponseWriter, r *http.Request) {
	rule, err := s.d.DB.AutoCommit().Rule(r.Context(), r.PathValue("ref"))
	if errors.Is(err, attune.ErrNotFound) {
		writeProblem(w, problem(http.StatusNotFound, "rule %s is not registered; GET /api/v1/rules lists the rules", r.PathValue("ref")))
		return
	}
	if err != nil {
		s.internal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toRuleView(rule))
}

// putRule: PUT /api/v1/rules/{ref} {enabled}. Disabling a timer rule cancels its pending fire
// job in the same transaction, as `attune rule disable` does.
func (s *Server) putRule(w http.ResponseWriter, r *http.Request) {
	body, p := decodeObject(r)
	if p != nil {
		writeProblem(w, p)
		return
	}
	var fe fields
	fe.unknownFields(body, "enabled")
	var enabled bool
	if raw, ok := body["enabled"]; !ok {
		fe.add("enabled", "required: true or false")
	} else if err := json.Unmarshal(raw, &enabled); err != nil {
		fe.add("enabled", "must be true or false, got %s", clipJSON(raw))
	}
	if p := fe.problem("the request has invalid fields; the rule is unchanged"); p != nil {
		writeProblem(w, p)
		return
	}
	rule, err := s.d.Registry.SetRuleEnabled(r.Context(), r.PathValue("ref"), enabled)
	if errors.Is(err, attune.ErrNotFound) {
		writeProblem(w, problem(http.StatusNotFound, "rule %s is not registered; GET /api/v1/rules lists the rules", r.PathValue("ref")))
		return
	}
	if err != nil {
		s.internal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toRuleView(rule))
}

// listActions: GET /api/v1/actions.
func (s *Server) listActions(w http.ResponseWriter, r *http.Request) {
	as, err := s.d.DB.AutoCommit().Actions(r.Context())
	if err != nil {
		s.internal(w, r, err)
		return
	}
	out := make([]actionView, len(as))
	for i, a := range as {
		out[i] = toActionView(a)
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": out})
}

// getAction: GET /api/v1/actions/{ref}, with its parameter schema.
func (s *Server) getAction(w http.ResponseWriter, r *http.Request) {
	a, _, err := s.d.DB.AutoCommit().Action(r.Context(), r.PathValue("ref"))
	if errors.Is(err, attune.ErrNotFound) {
		writeProblem(w, problem(http.StatusNotFound, "action %s is not registered; GET /api/v1/actions lists the actions", r.PathValue("ref")))
		return
	}
	if err != nil {
		s.internal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toActionView(a))
}

// listPacks: GET /api/v1/packs.
func (s *Server) listPacks(w http.ResponseWriter, r *http.Request) {
	ps, err := s.d.DB.AutoCommit().Packs(r.Context())
	if err != nil {
		s.internal(w, r, err)
		return
	}
	out := make([]packView, len(ps))
	for i, p := range ps {
		out[i] = packView{Ref: p.Ref, Label: p.Label, Description: p.Description, Version: p.Version}
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": out})
}
