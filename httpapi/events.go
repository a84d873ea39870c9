package httpapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/db"
)

// createEvent records an event: POST /api/v1/events {trigger, payload} → 202 {event_id}. It
// takes the path of `attune event emit`: the event and its processing job in one transaction.
func (s *Server) createEvent(w http.ResponseWriter, r *http.Request) {
	body, p := decodeObject(r)
	if p != nil {
		writeProblem(w, p)
		return
	}
	var fe fields
	fe.unknownFields(body, "trigger", "payload")
	var trigger string
	if raw, ok := body["trigger"]; !ok {
		fe.add("trigger", "required: the ref of the trigger, such as mypack.order_paid")
	} else if err := json.Unmarshal(raw, &trigger); err != nil || trigger == "" {
		fe.add("trigger", "must be a trigger ref string, got %s", clipJSON(raw))
	}
	payload := map[string]any{}
	if raw, ok := body["payload"]; ok && string(raw) != "null" {
		if err := json.Unmarshal(raw, &payload); err != nil || payload == nil {
			fe.add("payload", "must be a JSON object, got %s", clipJSON(raw))
		}
	}
	if trigger != "" && len(fe) == 0 {
		ok, err := s.d.DB.AutoCommit().TriggerExists(r.Context(), trigger)
		if err != nil {
			s.internal(w, r, err)
			return
		}
		switch {
		case !ok:
			fe.add("trigger", "trigger %s is not registered; `attune pack register DIR` registers the pack that defines it", trigger)
		case attune.IsTimerTrigger(trigger):
			fe.add("trigger", "%s is a timer trigger: each timer rule fires its own events; emit on a trigger your pack defines", trigger)
		}
	}
	if p := fe.problem("the request has invalid fields; no event was recorded"); p != nil {
		writeProblem(w, p)
		return
	}
	ev, err := s.d.Pipeline.EmitEvent(r.Context(), db.NewEvent{TriggerRef: trigger, Payload: payload})
	if err != nil {
		s.internal(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/events/"+strconv.FormatInt(ev.ID, 10))
	writeJSON(w, http.StatusAccepted, map[string]any{"event_id": ev.ID})
}

// listEvents: GET /api/v1/events?trigger=&limit=&after=, newest first.
func (s *Server) listEvents(w http.ResponseWriter, r *http.Request) {
	var fe fields
	limit, after := listQuery(r, &fe)
	if badQuery(w, fe) {
		return
	}
	evs, err := s.d.DB.AutoCommit().EventPage(r.Context(), r.URL.Query().Get("trigger"), after, limit)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	out := page[eventView]{Items: make([]eventView, len(evs))}
	for i, e := range evs {
		out.Items[i] = toEventView(e)
	}
	if len(evs) > 0 {
		out.NextAfter = nextAfter(len(evs), limit, evs[len(evs)-1].ID)
	}
	writeJSON(w, http.StatusOK, out)
}

// ruleOutcomeView is what one rule made of an event.
type ruleOutcomeView struct {
	RuleRef     string           `json:"rule_ref"`
	Outcome     string           `json:"outcome"` // matched, not_matched or error
	Reason      string           `json:"reason"`
	Enforcement *enforcementView `json:"enforcement"`
	Executions  []executionBrief `json:"executions"`
}

type enforcementView struct {
	ID        int64     `json:"id"`
	Status    string    `json:"status"`
	Reason    string    `json:"reason"`
	CreatedAt time.Time `json:"created_at"`
}

type executionBrief struct {
	ID        int64  `json:"id"`
	ActionRef string `json:"action_ref"`
	Attempt   int    `json:"attempt"`
	Status    string `json:"status"`
	Error     string `json:"error"`
}

// getEvent: GET /api/v1/events/{id}, with what every rule made of it.
func (s *Server) getEvent(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r, "event")
	if !ok {
		return
	}
	rep, err := s.d.DB.AutoCommit().EventReport(r.Context(), id)
	if errors.Is(err, attune.ErrNotFound) {
		writeProblem(w, problem(http.StatusNotFound, "event %d does not exist (or was pruned after retention.days)", id))
		return
	}
	if err != nil {
		s.internal(w, r, err)
		return
	}
	rules := make([]ruleOutcomeView, len(rep.Rules))
	for i, rr := range rep.Rules {
		rules[i] = ruleOutcomeView{RuleRef: rr.RuleRef, Outcome: string(rr.Outcome), Reason: rr.Reason,
			Executions: make([]executionBrief, len(rr.Executions))}
		if e := rr.Enforcement; e != nil {
			rules[i].Enforcement = &enforcementView{ID: e.ID, Status: string(e.Status), Reason: e.Reason, CreatedAt: e.CreatedAt}
		}
		for j, x := range rr.Executions {
			rules[i].Executions[j] = executionBrief{ID: x.ID, ActionRef: x.ActionRef, Attempt: x.Attempt,
				Status: string(x.Status), Error: x.Error}
		}
	}
	writeJSON(w, http.StatusOK, struct {
		eventView
		Processing string            `json:"processing"`
		Rules      []ruleOutcomeView `json:"rules"`
	}{toEventView(rep.Event), rep.Processing, rules})
}
