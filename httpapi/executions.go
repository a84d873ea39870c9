package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/db"
	"github.com/attune-run/attune/params"
	"github.com/attune-run/attune/secrets"
)

// createExecution runs an action: POST /api/v1/executions {action, parameters, timeout?}. It
// takes the path of `attune run` (jobs.Pipeline.Run): defaults applied, parameters validated,
// secrets sealed, execution and dispatch job in one transaction. Every field error is listed.
func (s *Server) createExecution(w http.ResponseWriter, r *http.Request) {
	body, p := decodeObject(r)
	if p != nil {
		writeProblem(w, p)
		return
	}
	var fe fields
	fe.unknownFields(body, "action", "parameters", "timeout")
	var ref string
	if raw, ok := body["action"]; !ok {
		fe.add("action", "required: the ref of the action to run, such as core.echo")
	} else if err := json.Unmarshal(raw, &ref); err != nil || ref == "" {
		fe.add("action", "must be an action ref string such as core.echo, got %s", clipJSON(raw))
	}
	given, paramsOK := map[string]any{}, true
	if raw, ok := body["parameters"]; ok && string(raw) != "null" {
		if err := json.Unmarshal(raw, &given); err != nil || given == nil {
			fe.add("parameters", "must be a JSON object of parameter names to values, got %s", clipJSON(raw))
			paramsOK = false
		}
	}
	var timeout time.Duration
	if raw, ok := body["timeout"]; ok && string(raw) != "null" {
		var sec int64
		if err := json.Unmarshal(raw, &sec); err != nil || sec < 1 {
			fe.add("timeout", "must be a positive whole number of seconds, got %s", clipJSON(raw))
		}
		timeout = time.Duration(sec) * time.Second
	}
	if ref != "" && len(fe) > 0 { // list the action's and the parameters' errors too
		if err := s.checkRun(r, ref, given, paramsOK, &fe); err != nil {
			s.internal(w, r, err)
			return
		}
	}
	if p := fe.problem("the request has invalid fields; nothing was run"); p != nil {
		writeProblem(w, p)
		return
	}
	x, err := s.d.Pipeline.Run(r.Context(), ref, given, timeout)
	if err != nil {
		s.runError(w, r, ref, err)
		return
	}
	w.Header().Set("Location", "/api/v1/executions/"+strconv.FormatInt(x.ID, 10))
	writeJSON(w, http.StatusCreated, toExecutionView(x))
}

// checkRun adds the errors Pipeline.Run would find in the action and its parameters, so a
// request with several faults hears of all of them at once.
func (s *Server) checkRun(r *http.Request, ref string, given map[string]any, paramsOK bool, fe *fields) error {
	action, _, err := s.d.DB.AutoCommit().Action(r.Context(), ref)
	if errors.Is(err, attune.ErrNotFound) {
		fe.add("action", "action %s is not registered; GET /api/v1/actions lists the actions", ref)
		return nil
	}
	if err != nil || !paramsOK {
		return err
	}
	var pe params.FieldErrors
	if _, err := params.Apply(action.Parameters, given); errors.As(err, &pe) {
		for _, e := range pe {
			fe.add("parameters."+e.Field, "%s", e.Msg)
		}
	}
	return nil
}

// runError maps an error of Pipeline.Run to a problem.
func (s *Server) runError(w http.ResponseWriter, r *http.Request, ref string, err error) {
	var fe fields
	var pe params.FieldErrors
	switch {
	case errors.As(err, &pe):
		for _, e := range pe {
			fe.add("parameters."+e.Field, "%s", e.Msg)
		}
		writeProblem(w, fe.problem(fmt.Sprintf("invalid parameters for %s; nothing was run", ref)))
	case errors.Is(err, attune.ErrNotFound):
		fe.add("action", "action %s is not registered; GET /api/v1/actions lists the actions", ref)
		writeProblem(w, fe.problem("unknown action; nothing was run"))
	case errors.Is(err, secrets.ErrNoKey):
		fe.add("parameters", "%v", err)
		writeProblem(w, fe.problem("this action takes a secret parameter and the server has no secrets.key; nothing was run"))
	case errors.Is(err, attune.ErrInvalid):
		fe.add("timeout", "%v", err)
		writeProblem(w, fe.problem("the timeout cannot be honoured; nothing was run"))
	default:
		s.internal(w, r, err)
	}
}

// listQuery reads limit and after, adding field errors.
func listQuery(r *http.Request, fe *fields) (limit int, after int64) {
	limit = 50
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			fe.add("limit", "must be a whole number from 1 to 1000, got %q", v)
		}
		limit = n
	}
	if v := r.URL.Query().Get("after"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			fe.add("after", "must be an id from next_after of the previous page, got %q", v)
		}
		after = n
	}
	return limit, after
}

// badQuery answers 400 with the query's field errors.
func badQuery(w http.ResponseWriter, fe fields) bool {
	p := fe.problem("invalid query parameters")
	if p == nil {
		return false
	}
	p.Status, p.Title = http.StatusBadRequest, http.StatusText(http.StatusBadRequest)
	writeProblem(w, p)
	return true
}

// nextAfter is the cursor after a full page of ids, or nil after the last page.
func nextAfter(n, limit int, lastID int64) *int64 {
	if n < limit || n == 0 {
		return nil
	}
	return &lastID
}

// listExecutions: GET /api/v1/executions?action=&status=&rule=&limit=&after=, newest first.
func (s *Server) listExecutions(w http.ResponseWriter, r *http.Request) {
	var fe fields
	q := r.URL.Query()
	f := db.ExecutionPageFilter{Status: q.Get("status"), ActionRef: q.Get("action"), RuleRef: q.Get("rule")}
	if f.Status != "" && !attune.ExecutionStatus(f.Status).Valid() {
		fe.add("status", "must be one of %v, got %q", attune.ExecutionStatuses, f.Status)
	}
	f.Limit, f.After = listQuery(r, &fe)
	if badQuery(w, fe) {
		return
	}
	xs, err := s.d.DB.AutoCommit().ExecutionPage(r.Context(), f)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	out := page[executionView]{Items: make([]executionView, len(xs))}
	for i, x := range xs {
		out.Items[i] = toExecutionView(x)
	}
	if len(xs) > 0 {
		out.NextAfter = nextAfter(len(xs), f.Limit, xs[len(xs)-1].ID)
	}
	writeJSON(w, http.StatusOK, out)
}

// pathID reads the {id} path value, answering 400 when it is not a positive integer.
func pathID(w http.ResponseWriter, r *http.Request, what string) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		writeProblem(w, problem(http.StatusBadRequest, "%s id %q is not a positive whole number", what, r.PathValue("id")))
		return 0, false
	}
	return id, true
}

// getExecution: GET /api/v1/executions/{id}, with its status history and every attempt.
func (s *Server) getExecution(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r, "execution")
	if !ok {
		return
	}
	det, err := s.d.DB.AutoCommit().ExecutionDetail(r.Context(), id) // one round trip
	if errors.Is(err, attune.ErrNotFound) {
		writeProblem(w, problem(http.StatusNotFound, "execution %d does not exist (or was pruned after retention.days)", id))
		return
	}
	if err != nil {
		s.internal(w, r, err)
		return
	}
	x, hist, attempts := det.Execution, det.History, det.Attempts
	out := struct {
		executionView
		History  []transitionView `json:"history"`
		Attempts []executionView  `json:"attempts"`
	}{executionView: toExecutionView(x), History: []transitionView{}, Attempts: []executionView{}}
	for _, t := range hist {
		out.History = append(out.History, toTransitionView(t))
	}
	for _, a := range attempts {
		out.Attempts = append(out.Attempts, toExecutionView(a))
	}
	writeJSON(w, http.StatusOK, out)
}

// clipJSON shows a raw JSON value in a message, cut to a readable length.
func clipJSON(raw json.RawMessage) string {
	const max = 60
	if len(raw) > max {
		return string(raw[:max]) + "…"
	}
	return string(raw)
}
