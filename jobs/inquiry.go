package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/db"
	attuneparams "github.com/attune-run/attune/params"
)

// ask runs a core.ask (inquirer) execution that the dispatch worker just claimed, in the claim's
// transaction: it creates the inquiry, moves the execution to pending, emits the core.inquiry
// event, schedules the expiry and tells a parent workflow. No worker holds the execution after
// this; a response, the expiry or a cancel ends it. The inquiry's key is the execution id, and the
// execution's compare-and-set from running guards it, so a redelivered dispatch creates no second
// one. Parameters that cannot make an inquiry (a schema that does not compile) fail the execution.
func (p *Pipeline) ask(ctx context.Context, q *db.Queries, x attune.Execution) error {
	n, err := inquiryOf(x, p.now())
	if err != nil {
		fx, ferr := q.ExecutionFinish(ctx, x.ID, db.Finish{
			From: attune.StatusRunning, To: attune.StatusFailed, Error: err.Error(), Worker: p.Worker,
		})
		if ferr != nil {
			return ferr
		}
		p.Log.Warn("inquiry not created", "execution_id", x.ID, "error", err)
		return p.announceTerminal(ctx, q.Tx(), fx)
	}
	px, err := q.ExecutionSetPending(ctx, x.ID, p.Worker)
	if err != nil {
		return err
	}
	inq, err := q.InquiryCreate(ctx, n)
	if err != nil {
		return err
	}
	ev, err := q.EventInsert(ctx, db.NewEvent{TriggerRef: attune.TriggerInquiry, Payload: map[string]any{
		"id": inq.ID, "route": inq.Route, "users": inq.Users, "schema": inq.Schema, "ttl": inq.TTLMinutes,
	}})
	if err != nil {
		return err
	}
	jobs := []river.InsertManyParams{
		{Args: EventProcessArgs{EventID: ev.ID}},
	}
	if inq.ExpiresAt != nil {
		jobs = append(jobs, river.InsertManyParams{Args: InquiryExpireArgs{InquiryID: inq.ID},
			InsertOpts: &river.InsertOpts{ScheduledAt: *inq.ExpiresAt}})
	}
	if _, err := p.River.InsertManyTx(ctx, q.Tx(), jobs); err != nil {
		return fmt.Errorf("announce inquiry %d: %w", inq.ID, err)
	}
	p.Log.Info("execution pending: inquiry created", "execution_id", x.ID, "ttl_minutes", inq.TTLMinutes, "route", inq.Route)
	return p.workflowChildPending(ctx, q, px)
}

// defaultInquirySchema is StackStorm's core.ask schema: one required boolean, continue.
func defaultInquirySchema() map[string]any {
	return map[string]any{"type": "object", "properties": map[string]any{
		"continue": map[string]any{
			"type": "boolean", "description": "Would you like to continue the workflow?", "required": true,
		},
	}}
}

// inquiryOf reads the inquiry a core.ask execution asks for from its parameters: schema, ttl
// (minutes; 0 never expires), users and route.
func inquiryOf(x attune.Execution, now time.Time) (db.NewInquiry, error) {
	n := db.NewInquiry{ExecutionID: x.ID, Schema: defaultInquirySchema()}
	if s, ok := x.Parameters["schema"]; ok && s != nil {
		m, ok := s.(map[string]any)
		if !ok {
			return n, fmt.Errorf("core.ask: schema must be a JSON Schema object, got %T", s)
		}
		n.Schema = m
	}
	if _, err := attuneparams.CompileDocument(n.Schema); err != nil {
		return n, fmt.Errorf("core.ask: %w; give a JSON Schema object such as {type: object, properties: {continue: {type: boolean}}}", err)
	}
	n.TTLMinutes = 1440
	if t, ok := number(x.Parameters["ttl"]); ok {
		if t < 0 || t != float64(int(t)) {
			return n, fmt.Errorf("core.ask: ttl must be a whole number of minutes, 0 for never, got %v", t)
		}
		n.TTLMinutes = int(t)
	}
	if n.TTLMinutes > 0 {
		at := now.Add(time.Duration(n.TTLMinutes) * time.Minute)
		n.ExpiresAt = &at
	}
	if us, ok := x.Parameters["users"].([]any); ok {
		for _, u := range us {
			s, ok := u.(string)
			if !ok || s == "" {
				return n, fmt.Errorf("core.ask: users must be a list of API key names, got %v", u)
			}
			n.Users = append(n.Users, s)
		}
	}
	if roles, ok := x.Parameters["roles"].([]any); ok && len(roles) > 0 {
		return n, fmt.Errorf("core.ask: roles %v cannot be honoured: attune has no RBAC roles; name the API keys allowed to answer in users", roles)
	}
	n.Route = str(x.Parameters["route"])
	return n, nil
}

// Responder is who answers an inquiry.
type Responder struct {
	// Who is recorded as the inquiry's responded_by: "api:<key name>", "cli:<os user>".
	Who string
	// Key is the API key's name, checked against the inquiry's users. The CLI leaves it empty:
	// it holds the database URL, so it is trusted as the database's owner is, and only records
	// who ran it.
	Key string
}

// ClosedError is Respond's answer for an inquiry that is not pending any more. It wraps
// attune.ErrConflict (HTTP 409).
type ClosedError struct{ Inquiry attune.Inquiry }

func (e *ClosedError) Error() string {
	i := e.Inquiry
	switch i.Status {
	case attune.InquiryResponded:
		at := ""
		if i.RespondedAt != nil {
			at = " at " + i.RespondedAt.UTC().Format(time.RFC3339)
		}
		return fmt.Sprintf("inquiry %d was already answered by %s%s; the first answer stands", i.ID, i.RespondedBy, at)
	case attune.InquiryExpired:
		return fmt.Sprintf("inquiry %d expired unanswered (ttl %d minutes); its execution ended timeout", i.ID, i.TTLMinutes)
	default:
		return fmt.Sprintf("inquiry %d is %s; it can no longer be answered", i.ID, i.Status)
	}
}

// Unwrap makes a ClosedError an attune.ErrConflict.
func (e *ClosedError) Unwrap() error { return attune.ErrConflict }

// Respond answers a pending inquiry. The response must match the inquiry's schema: otherwise the
// error is params.FieldErrors, listing every field at fault (it wraps attune.ErrInvalid), and
// nothing changes. A valid response is stored and completes the execution with result
// {"response": response}, in one transaction, by compare-and-set from pending, so of two
// responders one wins and the other gets a *ClosedError (attune.ErrConflict). An API key not
// among the inquiry's users gets attune.ErrForbidden; an unknown id attune.ErrNotFound; a
// response over attune's input limits (1 MiB, 64 levels) an error wrapping attune.ErrInvalid.
func (p *Pipeline) Respond(ctx context.Context, id int64, response map[string]any, by Responder) (attune.Inquiry, error) {
	var inq attune.Inquiry
	if err := checkResponse(response); err != nil {
		return inq, err
	}
	err := p.DB.InTx(ctx, func(q *db.Queries) error {
		cur, err := q.Inquiry(ctx, id)
		if err != nil {
			return err
		}
		if cur.Status != attune.InquiryPending {
			return &ClosedError{Inquiry: cur}
		}
		if by.Key != "" && len(cur.Users) > 0 && !slices.Contains(cur.Users, by.Key) {
			return fmt.Errorf("%w: API key %q may not answer inquiry %d: it is for %s", attune.ErrForbidden, by.Key, id, strings.Join(cur.Users, ", "))
		}
		schema, err := attuneparams.CompileDocument(cur.Schema)
		if err != nil {
			return fmt.Errorf("inquiry %d: %w", id, err)
		}
		if err := schema.Validate(response); err != nil {
			return err
		}
		if response == nil {
			response = map[string]any{}
		}
		result, err := json.Marshal(map[string]any{"response": response})
		if err != nil {
			return fmt.Errorf("inquiry %d: encode the result: %w", id, err)
		}
		// The execution first, then the inquiry, as cancel and expiry do: one lock order, so
		// concurrent enders wait for each other instead of deadlocking.
		fx, err := q.ExecutionFinish(ctx, id, db.Finish{
			From: attune.StatusPending, To: attune.StatusCompleted, Result: result, Worker: p.Worker,
		})
		if err != nil {
			return closedNow(ctx, q, id, err)
		}
		if inq, err = q.InquiryRespond(ctx, id, response, by.Who); err != nil {
			return closedNow(ctx, q, id, err)
		}
		return p.announceTerminal(ctx, q.Tx(), fx)
	})
	if err == nil {
		p.Log.Info("inquiry answered", "execution_id", id, "by", by.Who)
	}
	return inq, err
}

// checkResponse applies the limits of every other input to a response: attune.MaxNestingDepth
// and attune.MaxPayloadBytes. The error wraps attune.ErrInvalid.
func checkResponse(response map[string]any) error {
	if err := attuneparams.CheckDepth("response", response, attune.MaxNestingDepth); err != nil {
		return err
	}
	b, err := json.Marshal(response)
	if err != nil {
		return fmt.Errorf("%w: response: %v", attune.ErrInvalid, err)
	}
	if len(b) > attune.MaxPayloadBytes {
		return fmt.Errorf("%w: response: %d bytes as JSON, over the limit of %d (1 MiB)", attune.ErrInvalid, len(b), attune.MaxPayloadBytes)
	}
	return nil
}

// closedNow turns a lost compare-and-set on inquiry id into a *ClosedError naming what won.
func closedNow(ctx context.Context, q *db.Queries, id int64, err error) error {
	if !errors.Is(err, attune.ErrConflict) {
		return err
	}
	cur, rerr := q.Inquiry(ctx, id)
	if rerr != nil || cur.Status == attune.InquiryPending {
		return fmt.Errorf("inquiry %d: its execution is no longer pending: %w", id, err)
	}
	return &ClosedError{Inquiry: cur}
}

// InquiryExpireWorker ends an inquiry that nobody answered in time: the inquiry expired and its
// execution timeout, by compare-and-set from pending, so an answer that came first wins. Its job
// is scheduled at the inquiry's expires_at, so River runs it no earlier.
type InquiryExpireWorker struct {
	river.WorkerDefaults[InquiryExpireArgs]
	P *Pipeline
}

// Work implements river.Worker.
func (w *InquiryExpireWorker) Work(ctx context.Context, job *river.Job[InquiryExpireArgs]) error {
	p := w.P
	id := job.Args.InquiryID
	return p.DB.InTx(ctx, func(q *db.Queries) error {
		inq, err := q.Inquiry(ctx, id)
		if errors.Is(err, attune.ErrNotFound) {
			return nil // pruned with its execution
		}
		if err != nil {
			return err
		}
		if inq.Status != attune.InquiryPending || inq.ExpiresAt == nil {
			return nil
		}
		// The execution first, then the inquiry: the lock order of Respond and Cancel.
		fx, err := q.ExecutionFinish(ctx, id, db.Finish{
			From: attune.StatusPending, To: attune.StatusTimeout, Worker: p.Worker,
			Error: fmt.Sprintf("inquiry %d was not answered within its ttl of %d minutes", id, inq.TTLMinutes),
		})
		if errors.Is(err, attune.ErrConflict) {
			return nil // answered or cancelled meanwhile: that closed the inquiry
		}
		if err != nil {
			return err
		}
		if _, err := q.InquiryClose(ctx, id, attune.InquiryExpired); err != nil {
			return err
		}
		p.Log.Info("inquiry expired", "execution_id", id, "ttl_minutes", inq.TTLMinutes)
		return p.announceTerminal(ctx, q.Tx(), fx)
	})
}

// closeInquiry ends the inquiry of a pending execution being cancelled, in q's transaction.
func closeInquiry(ctx context.Context, q *db.Queries, id int64) error {
	_, err := q.InquiryClose(ctx, id, attune.InquiryCancelled)
	if errors.Is(err, attune.ErrConflict) {
		return nil
	}
	return err
}
