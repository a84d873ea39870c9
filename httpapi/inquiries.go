package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/db"
	"github.com/attune-run/attune/jobs"
	"github.com/attune-run/attune/params"
)

// inquiryView is an inquiry as the API shows it: its id is its core.ask execution's.
type inquiryView struct {
	ID          int64          `json:"id"`
	ExecutionID int64          `json:"execution_id"`
	Status      string         `json:"status"`
	Schema      map[string]any `json:"schema"`
	TTL         int            `json:"ttl"`
	Users       []string       `json:"users"`
	Route       string         `json:"route"`
	Response    map[string]any `json:"response"`
	RespondedBy string         `json:"responded_by"`
	CreatedAt   time.Time      `json:"created_at"`
	ExpiresAt   *time.Time     `json:"expires_at"`
	RespondedAt *time.Time     `json:"responded_at"`
}

func toInquiryView(i attune.Inquiry) inquiryView {
	v := inquiryView{ID: i.ID, ExecutionID: i.ID, Status: string(i.Status), Schema: i.Schema, TTL: i.TTLMinutes,
		Users: i.Users, Route: i.Route, Response: i.Response, RespondedBy: i.RespondedBy,
		CreatedAt: i.CreatedAt, ExpiresAt: i.ExpiresAt, RespondedAt: i.RespondedAt}
	if v.Users == nil {
		v.Users = []string{}
	}
	if v.Schema == nil {
		v.Schema = map[string]any{}
	}
	return v
}

// notFoundInquiry answers 404 for an inquiry that does not exist.
func notFoundInquiry(w http.ResponseWriter, id int64) {
	writeProblem(w, problem(http.StatusNotFound, "inquiry %d does not exist (or was pruned with its execution)", id))
}

// listInquiries: GET /api/v1/inquiries?status=&limit=&after=, newest first.
func (s *Server) listInquiries(w http.ResponseWriter, r *http.Request) {
	var fe fields
	status := attune.InquiryStatus(r.URL.Query().Get("status"))
	if status != "" && !slices.Contains(attune.InquiryStatuses, status) {
		fe.add("status", "must be one of %v, got %q", attune.InquiryStatuses, status)
	}
	f := db.InquiryFilter{Status: status}
	f.Limit, f.After = listQuery(r, &fe)
	if badQuery(w, fe) {
		return
	}
	is, err := s.d.DB.AutoCommit().Inquiries(r.Context(), f)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	out := page[inquiryView]{Items: make([]inquiryView, len(is))}
	for i, inq := range is {
		out.Items[i] = toInquiryView(inq)
	}
	if len(is) > 0 {
		out.NextAfter = nextAfter(len(is), f.Limit, is[len(is)-1].ID)
	}
	writeJSON(w, http.StatusOK, out)
}

// getInquiry: GET /api/v1/inquiries/{id}.
func (s *Server) getInquiry(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r, "inquiry")
	if !ok {
		return
	}
	inq, err := s.d.DB.AutoCommit().Inquiry(r.Context(), id)
	if errors.Is(err, attune.ErrNotFound) {
		notFoundInquiry(w, id)
		return
	}
	if err != nil {
		s.internal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toInquiryView(inq))
}

// respondInquiry: PUT /api/v1/inquiries/{id} {response: {...}}, as StackStorm's (which also sends
// the id in the body). The response is checked against the inquiry's schema, every field at fault
// listed (422); a valid one completes the core.ask execution with result.response (200 with the
// inquiry). Already answered, expired or cancelled: 409. An API key not among the inquiry's
// users: 403. The answer records api:<key name> as who responded.
func (s *Server) respondInquiry(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r, "inquiry")
	if !ok {
		return
	}
	body, p := decodeObject(r)
	if p != nil {
		writeProblem(w, p)
		return
	}
	var fe fields
	fe.unknownFields(body, "id", "response")
	var response map[string]any
	if raw, ok := body["response"]; !ok {
		fe.add("response", "required: the answer, a JSON object matching the inquiry's schema")
	} else if err := json.Unmarshal(raw, &response); err != nil || response == nil {
		fe.add("response", "must be a JSON object matching the inquiry's schema, got %s", clipJSON(raw))
	}
	if raw, ok := body["id"]; ok {
		var given any // StackStorm's clients send it as a string
		if err := json.Unmarshal(raw, &given); err != nil || fmt.Sprint(given) != strconv.FormatInt(id, 10) {
			fe.add("id", "must be the inquiry id of the path, %d, or left out; got %s", id, clipJSON(raw))
		}
	}
	if p := fe.problem("the request has invalid fields; nothing changed"); p != nil {
		writeProblem(w, p)
		return
	}
	inq, err := s.d.Pipeline.Respond(r.Context(), id, response, jobs.Responder{Who: "api:" + keyName(r), Key: keyName(r)})
	var pe params.FieldErrors
	switch {
	case err == nil:
		writeJSON(w, http.StatusOK, toInquiryView(inq))
	case errors.As(err, &pe):
		for _, e := range pe {
			fe.add("response."+e.Field, "%s", e.Msg)
		}
		writeProblem(w, fe.problem("the response does not match the inquiry's schema; nothing changed"))
	case errors.Is(err, attune.ErrInvalid):
		fe.add("response", "%v", err)
		writeProblem(w, fe.problem("the response cannot be stored; nothing changed"))
	case errors.Is(err, attune.ErrNotFound):
		notFoundInquiry(w, id)
	case errors.Is(err, attune.ErrForbidden):
		writeProblem(w, problem(http.StatusForbidden, "%v", err))
	case errors.Is(err, attune.ErrConflict):
		writeProblem(w, problem(http.StatusConflict, "%v", err))
	default:
		s.internal(w, r, err)
	}
}
