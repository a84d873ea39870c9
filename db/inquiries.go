package db

import (
	"context"
	"fmt"
	"time"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/db/internal/dbsqlc"
)

// NewInquiry is the inquiry of one core.ask execution.
type NewInquiry struct {
	ExecutionID int64
	Schema      map[string]any
	TTLMinutes  int
	Users       []string
	Route       string
	ExpiresAt   *time.Time // nil when TTLMinutes is 0
}

// InquiryCreate records the inquiry of an execution. It returns attune.ErrConflict when the
// execution already has one (a redelivered dispatch).
func (q *Queries) InquiryCreate(ctx context.Context, n NewInquiry) (attune.Inquiry, error) {
	schema, err := jsonb(n.Schema)
	if err != nil {
		return attune.Inquiry{}, err
	}
	users := n.Users
	if users == nil {
		users = []string{}
	}
	r, err := q.q.InquiryInsert(ctx, dbsqlc.InquiryInsertParams{
		ID: n.ExecutionID, Schema: schema, TtlMinutes: int32(n.TTLMinutes), Users: users,
		Route: n.Route, ExpiresAt: n.ExpiresAt,
	})
	if noRow(err) {
		return attune.Inquiry{}, fmt.Errorf("inquiry %d already exists: %w", n.ExecutionID, attune.ErrConflict)
	}
	if err != nil {
		return attune.Inquiry{}, fmt.Errorf("insert inquiry %d: %w", n.ExecutionID, err)
	}
	return toInquiry(r)
}

// Inquiry returns an inquiry by id (its execution's id).
func (q *Queries) Inquiry(ctx context.Context, id int64) (attune.Inquiry, error) {
	r, err := q.q.InquiryGet(ctx, id)
	if err != nil {
		return attune.Inquiry{}, notFound(err, "inquiry", id)
	}
	return toInquiry(r)
}

// InquiryFilter narrows Inquiries.
type InquiryFilter struct {
	Status attune.InquiryStatus // "" for every status
	Limit  int                  // 0: 50
	After  int64                // only ids below this one (the previous page's last id); 0: from the newest
}

// Inquiries lists inquiries, newest first.
func (q *Queries) Inquiries(ctx context.Context, f InquiryFilter) ([]attune.Inquiry, error) {
	p := dbsqlc.InquiryListParams{Lim: int32(f.Limit)}
	if f.Status != "" {
		s := string(f.Status)
		p.Status = &s
	}
	if f.After > 0 {
		p.After = &f.After
	}
	if p.Lim <= 0 {
		p.Lim = 50
	}
	rows, err := q.q.InquiryList(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("list inquiries: %w", err)
	}
	return mapRows(rows, toInquiry)
}

// InquiryRespond stores the answer to a pending inquiry. It returns attune.ErrConflict when the
// inquiry is not pending any more (answered by someone else, expired or cancelled).
func (q *Queries) InquiryRespond(ctx context.Context, id int64, response map[string]any, by string) (attune.Inquiry, error) {
	b, err := jsonb(response)
	if err != nil {
		return attune.Inquiry{}, err
	}
	r, err := q.q.InquiryRespond(ctx, dbsqlc.InquiryRespondParams{ID: id, Response: b, RespondedBy: by})
	if noRow(err) {
		return attune.Inquiry{}, fmt.Errorf("respond to inquiry %d: not pending: %w", id, attune.ErrConflict)
	}
	if err != nil {
		return attune.Inquiry{}, fmt.Errorf("respond to inquiry %d: %w", id, err)
	}
	return toInquiry(r)
}

// InquiryClose ends a pending inquiry unanswered, as expired or cancelled. It returns
// attune.ErrConflict when the inquiry is not pending any more.
func (q *Queries) InquiryClose(ctx context.Context, id int64, to attune.InquiryStatus) (attune.Inquiry, error) {
	r, err := q.q.InquiryClose(ctx, dbsqlc.InquiryCloseParams{ID: id, Status: string(to)})
	if noRow(err) {
		return attune.Inquiry{}, fmt.Errorf("close inquiry %d: not pending: %w", id, attune.ErrConflict)
	}
	if err != nil {
		return attune.Inquiry{}, fmt.Errorf("close inquiry %d as %s: %w", id, to, err)
	}
	return toInquiry(r)
}

// ExecutionSetPending moves a running execution to pending: it waits for an answer to its
// inquiry, held by no worker. It returns attune.ErrConflict when the execution is not running.
func (q *Queries) ExecutionSetPending(ctx context.Context, id int64, worker string) (attune.Execution, error) {
	r, err := q.q.ExecutionSetPending(ctx, id)
	if noRow(err) {
		return attune.Execution{}, fmt.Errorf("execution %d: not running: %w", id, attune.ErrConflict)
	}
	if err != nil {
		return attune.Execution{}, fmt.Errorf("execution %d to pending: %w", id, err)
	}
	if err := q.history(ctx, id, attune.StatusRunning, attune.StatusPending, worker, "waiting for a response to inquiry"); err != nil {
		return attune.Execution{}, err
	}
	return toExecution(r)
}

func toInquiry(r dbsqlc.AttuneInquiry) (attune.Inquiry, error) {
	schema, err := object(r.Schema, "schema")
	var response map[string]any
	if err == nil {
		err = decode(r.Response, "response", &response)
	}
	if err != nil {
		return attune.Inquiry{}, fmt.Errorf("inquiry %d: %w", r.ID, err)
	}
	return attune.Inquiry{
		ID: r.ID, Schema: schema, TTLMinutes: int(r.TtlMinutes), Users: r.Users, Route: r.Route,
		Status: attune.InquiryStatus(r.Status), Response: response, RespondedBy: r.RespondedBy,
		CreatedAt: r.CreatedAt, ExpiresAt: r.ExpiresAt, RespondedAt: r.RespondedAt,
	}, nil
}
