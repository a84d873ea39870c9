package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/jobs"
	"github.com/attune-run/attune/params"
	"github.com/attune-run/attune/secrets"
)

// notFoundExecution answers 404 for an execution that does not exist.
func notFoundExecution(w http.ResponseWriter, id int64) {
	writeProblem(w, problem(http.StatusNotFound, "execution %d does not exist (or was pruned after retention.days)", id))
}

// cancelExecution: POST /api/v1/executions/{id}/cancel and DELETE /api/v1/executions/{id}, as in
// StackStorm. A requested or scheduled execution is cancelled at once (200); a running one
// becomes canceling (202) and the replica running it stops the action. A terminal one is 409.
func (s *Server) cancelExecution(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r, "execution")
	if !ok {
		return
	}
	x, err := s.d.Pipeline.Cancel(r.Context(), id, "api:"+keyName(r))
	var finished *jobs.FinishedError
	switch {
	case errors.As(err, &finished):
		writeProblem(w, problem(http.StatusConflict, "%v", finished))
		return
	case errors.Is(err, attune.ErrNotFound):
		notFoundExecution(w, id)
		return
	case err != nil:
		s.internal(w, r, err)
		return
	}
	code := http.StatusOK
	if !x.Status.Terminal() {
		code = http.StatusAccepted // canceling: the action is being stopped
	}
	writeJSON(w, code, toExecutionView(x))
}

// pauseExecution: POST /api/v1/executions/{id}/pause pauses a workflow (jobs.Pipeline.Pause, as
// `attune execution pause`): 200 with it paused. Not a workflow: 400; finished: 409.
func (s *Server) pauseExecution(w http.ResponseWriter, r *http.Request) {
	s.controlWorkflow(w, r, s.d.Pipeline.Pause)
}

// resumeExecution: POST /api/v1/executions/{id}/resume resumes a paused workflow
// (jobs.Pipeline.Resume, as `attune execution resume`): 200 with it running.
func (s *Server) resumeExecution(w http.ResponseWriter, r *http.Request) {
	s.controlWorkflow(w, r, s.d.Pipeline.Resume)
}

func (s *Server) controlWorkflow(w http.ResponseWriter, r *http.Request, do func(context.Context, int64, string) (attune.Execution, error)) {
	id, ok := pathID(w, r, "execution")
	if !ok {
		return
	}
	x, err := do(r.Context(), id, "api:"+keyName(r))
	switch {
	case errors.Is(err, attune.ErrNotFound):
		notFoundExecution(w, id)
	case errors.Is(err, attune.ErrInvalid):
		writeProblem(w, problem(http.StatusBadRequest, "%v", err))
	case errors.Is(err, attune.ErrConflict):
		writeProblem(w, problem(http.StatusConflict, "%v", err))
	case err != nil:
		s.internal(w, r, err)
	default:
		writeJSON(w, http.StatusOK, toExecutionView(x))
	}
}

// rerunExecution: POST /api/v1/executions/{id}/re_run {parameters?, tasks?} runs the execution's
// action again with its parameters and the given ones merged over them (jobs.Pipeline.Rerun, as
// `attune execution rerun`): 201 with the new execution, rerun_of set. With tasks, a workflow
// that has ended re-runs from those tasks (jobs.Pipeline.RerunTasks, as `--tasks`).
func (s *Server) rerunExecution(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r, "execution")
	if !ok {
		return
	}
	b, p := readBody(r)
	if p != nil {
		writeProblem(w, p)
		return
	}
	given := map[string]any{}
	var tasks []string
	if len(bytes.TrimSpace(b)) > 0 { // no body: the same parameters again
		if p := checkJSON(b); p != nil {
			writeProblem(w, p)
			return
		}
		var body map[string]json.RawMessage
		if err := json.Unmarshal(b, &body); err != nil || body == nil {
			writeProblem(w, problem(http.StatusBadRequest, "the request body must be a JSON object ({...})"))
			return
		}
		var fe fields
		fe.unknownFields(body, "parameters", "tasks")
		if raw, ok := body["parameters"]; ok && string(raw) != "null" {
			if err := json.Unmarshal(raw, &given); err != nil || given == nil {
				fe.add("parameters", "must be a JSON object of parameter names to values, got %s", clipJSON(raw))
			}
		}
		if raw, ok := body["tasks"]; ok && string(raw) != "null" {
			if err := json.Unmarshal(raw, &tasks); err != nil || len(tasks) == 0 {
				fe.add("tasks", "must be a non-empty JSON array of task names, got %s", clipJSON(raw))
			}
		}
		if p := fe.problem("the request has invalid fields; nothing was run"); p != nil {
			writeProblem(w, p)
			return
		}
	}
	var x attune.Execution
	var err error
	if tasks != nil {
		x, err = s.d.Pipeline.RerunTasks(r.Context(), id, tasks, given)
	} else {
		x, err = s.d.Pipeline.Rerun(r.Context(), id, given)
	}
	var pe params.FieldErrors
	switch {
	case errors.As(err, &pe):
		var fe fields
		for _, e := range pe {
			fe.add("parameters."+e.Field, "%s", e.Msg)
		}
		writeProblem(w, fe.problem(fmt.Sprintf("invalid parameters for a re-run of execution %d; nothing was run", id)))
		return
	case errors.Is(err, attune.ErrNotFound):
		// The execution, or its action since unregistered.
		writeProblem(w, problem(http.StatusNotFound, "%v", err))
		return
	case errors.Is(err, secrets.ErrNoKey):
		var fe fields
		fe.add("parameters", "%v", err)
		writeProblem(w, fe.problem("the execution has secret parameters and the server has no secrets.key; nothing was run"))
		return
	case tasks != nil && errors.Is(err, attune.ErrInvalid):
		var fe fields
		fe.add("tasks", "%s", strings.TrimSuffix(err.Error(), ": "+attune.ErrInvalid.Error()))
		writeProblem(w, fe.problem(fmt.Sprintf("execution %d cannot be re-run from these tasks; nothing was run", id)))
		return
	case tasks != nil && errors.Is(err, attune.ErrConflict):
		writeProblem(w, problem(http.StatusConflict, "%v", err))
		return
	case err != nil:
		s.internal(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/executions/"+strconv.FormatInt(x.ID, 10))
	writeJSON(w, http.StatusCreated, toExecutionView(x))
}

// outputView is one stored batch of an action's output.
type outputView struct {
	Seq    int64     `json:"seq"`
	Stream string    `json:"stream"`
	Data   string    `json:"data"`
	At     time.Time `json:"at"`
}

func toOutputView(c attune.OutputChunk) outputView {
	return outputView{Seq: c.Seq, Stream: c.Stream, Data: c.Data, At: c.At}
}

// getOutput: GET /api/v1/executions/{id}/output?after=&limit= lists the stored output batches
// after seq after (0: from the start), in order. For the next page pass the last seq as after.
func (s *Server) getOutput(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r, "execution")
	if !ok {
		return
	}
	var fe fields
	after := seqParam(r.URL.Query().Get("after"), "after", &fe)
	limit := 1000
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			fe.add("limit", "must be a whole number from 1 to 1000, got %q", v)
		}
		limit = n
	}
	if badQuery(w, fe) {
		return
	}
	q := s.d.DB.AutoCommit()
	if _, err := q.Execution(r.Context(), id); errors.Is(err, attune.ErrNotFound) {
		notFoundExecution(w, id)
		return
	} else if err != nil {
		s.internal(w, r, err)
		return
	}
	chunks, err := q.OutputSince(r.Context(), id, after, limit)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	out := make([]outputView, len(chunks))
	for i, c := range chunks {
		out[i] = toOutputView(c)
	}
	writeJSON(w, http.StatusOK, out)
}

// seqParam reads an output seq (a whole number ≥ 0; "" is 0), adding a field error.
func seqParam(v, field string, fe *fields) int64 {
	if v == "" {
		return 0
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 || n > 1<<31-1 {
		fe.add(field, "must be the seq of an output batch (a whole number >= 0), got %q", v)
		return 0
	}
	return n
}
