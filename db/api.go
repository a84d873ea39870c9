package db

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/db/internal/dbsqlc"
)

// APIKey is a stored API key: its name and hash, never the key.
type APIKey struct {
	ID         int64
	Name       string
	CreatedAt  time.Time
	LastUsedAt *time.Time
}

func toAPIKey(r dbsqlc.AttuneApiKey) APIKey {
	return APIKey{ID: r.ID, Name: r.Name, CreatedAt: r.CreatedAt, LastUsedAt: r.LastUsedAt}
}

// APIKeyInsert stores a new key's hash under name. A live key of that name is ErrConflict.
func (q *Queries) APIKeyInsert(ctx context.Context, name string, hash []byte) (APIKey, error) {
	r, err := q.q.APIKeyInsert(ctx, dbsqlc.APIKeyInsertParams{Name: name, Hash: hash})
	if err != nil {
		return APIKey{}, fmt.Errorf("create api key %q: %w", name, uniqueConflict(err))
	}
	return toAPIKey(r), nil
}

// APIKeyByHash returns the live key with this hash, or ErrNotFound (unknown or revoked).
func (q *Queries) APIKeyByHash(ctx context.Context, hash []byte) (APIKey, error) {
	r, err := q.q.APIKeyByHash(ctx, hash)
	if err != nil {
		return APIKey{}, notFound(err, "api key", "(hash)")
	}
	return toAPIKey(r), nil
}

// APIKeyTouch records that a key was used (at most once a minute).
func (q *Queries) APIKeyTouch(ctx context.Context, id int64) error {
	if err := q.q.APIKeyTouch(ctx, id); err != nil {
		return fmt.Errorf("record use of api key %d: %w", id, err)
	}
	return nil
}

// APIKeys lists the live keys by name.
func (q *Queries) APIKeys(ctx context.Context) ([]APIKey, error) {
	rows, err := q.q.APIKeyList(ctx)
	if err != nil {
		return nil, fmt.Errorf("list api keys: %w", err)
	}
	return mapSlice(rows, toAPIKey), nil
}

// APIKeyRevoke revokes the live key named name; ErrNotFound when there is none.
func (q *Queries) APIKeyRevoke(ctx context.Context, name string) error {
	n, err := q.q.APIKeyRevoke(ctx, name)
	if err != nil {
		return fmt.Errorf("revoke api key %q: %w", name, err)
	}
	if n == 0 {
		return notFound(errNoRows, "api key", name)
	}
	return nil
}

// Webhook is how one webhook URL is verified.
type Webhook struct {
	Name      string
	Verify    string // apikey, github, stripe, standard, hmac-sha256 or none
	Secret    []byte // sealed with secrets.key; nil for apikey and none
	Header    string // hmac-sha256: the header carrying the signature
	Encoding  string // hmac-sha256: hex or base64
	UpdatedAt time.Time
}

func toWebhook(r dbsqlc.AttuneWebhook) Webhook {
	return Webhook{Name: r.Name, Verify: r.Verify, Secret: r.Secret, Header: r.Header, Encoding: r.Encoding, UpdatedAt: r.UpdatedAt}
}

// WebhookUpsert sets how a webhook is verified.
func (q *Queries) WebhookUpsert(ctx context.Context, w Webhook) (Webhook, error) {
	r, err := q.q.WebhookUpsert(ctx, dbsqlc.WebhookUpsertParams{
		Name: w.Name, Verify: w.Verify, Secret: w.Secret, Header: w.Header, Encoding: w.Encoding,
	})
	if err != nil {
		return Webhook{}, fmt.Errorf("set webhook %q: %w", w.Name, err)
	}
	return toWebhook(r), nil
}

// Webhook returns a webhook's verification settings, or ErrNotFound when none were set.
func (q *Queries) Webhook(ctx context.Context, name string) (Webhook, error) {
	r, err := q.q.WebhookGet(ctx, name)
	if err != nil {
		return Webhook{}, notFound(err, "webhook", name)
	}
	return toWebhook(r), nil
}

// Webhooks lists the webhooks with settings.
func (q *Queries) Webhooks(ctx context.Context) ([]Webhook, error) {
	rows, err := q.q.WebhookList(ctx)
	if err != nil {
		return nil, fmt.Errorf("list webhooks: %w", err)
	}
	return mapSlice(rows, toWebhook), nil
}

// WebhookRuleNames lists the webhook names that rules listen on.
func (q *Queries) WebhookRuleNames(ctx context.Context) ([]string, error) {
	names, err := q.q.WebhookRuleNames(ctx)
	if err != nil {
		return nil, fmt.Errorf("list webhook names of rules: %w", err)
	}
	return names, nil
}

// WebhookHasRule reports whether some rule listens on the webhook name.
func (q *Queries) WebhookHasRule(ctx context.Context, name string) (bool, error) {
	ok, err := q.q.WebhookHasRule(ctx, name)
	if err != nil {
		return false, fmt.Errorf("rules of webhook %q: %w", name, err)
	}
	return ok, nil
}

// WebhookDeliveryInsert records that a delivery id of a webhook made an event. It returns
// ErrConflict when the delivery was seen before.
func (q *Queries) WebhookDeliveryInsert(ctx context.Context, webhook, deliveryID string, eventID int64) error {
	n, err := q.q.WebhookDeliveryInsert(ctx, dbsqlc.WebhookDeliveryInsertParams{Webhook: webhook, DeliveryID: deliveryID, EventID: eventID})
	if err != nil {
		return fmt.Errorf("record delivery %q of webhook %q: %w", deliveryID, webhook, err)
	}
	if n == 0 {
		return fmt.Errorf("delivery %q of webhook %q: %w", deliveryID, webhook, ErrDuplicateDelivery)
	}
	return nil
}

// WebhookDeliveryEvent returns the event a delivery id of a webhook made.
func (q *Queries) WebhookDeliveryEvent(ctx context.Context, webhook, deliveryID string) (int64, error) {
	id, err := q.q.WebhookDeliveryEvent(ctx, dbsqlc.WebhookDeliveryEventParams{Webhook: webhook, DeliveryID: deliveryID})
	if err != nil {
		return 0, notFound(err, "delivery", deliveryID)
	}
	return id, nil
}

// ExecutionPageFilter narrows ExecutionPage.
type ExecutionPageFilter struct {
	Status    string
	ActionRef string
	RuleRef   string
	After     int64 // only ids below this; 0 for the newest
	Limit     int
}

// ExecutionPage lists executions newest first, below a keyset cursor.
func (q *Queries) ExecutionPage(ctx context.Context, f ExecutionPageFilter) ([]attune.Execution, error) {
	rows, err := q.q.ExecutionPage(ctx, dbsqlc.ExecutionPageParams{
		Status: nilIfEmpty(f.Status), ActionRef: nilIfEmpty(f.ActionRef), RuleRef: nilIfEmpty(f.RuleRef),
		After: f.After, Lim: int32(f.Limit),
	})
	if err != nil {
		return nil, fmt.Errorf("list executions: %w", err)
	}
	return mapRows(rows, toExecution)
}

// EventPage lists events newest first, optionally of one trigger, below a keyset cursor.
func (q *Queries) EventPage(ctx context.Context, triggerRef string, after int64, limit int) ([]attune.Event, error) {
	rows, err := q.q.EventPage(ctx, dbsqlc.EventPageParams{TriggerRef: nilIfEmpty(triggerRef), After: after, Lim: int32(limit)})
	if err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	return mapRows(rows, toEvent)
}

// QueueJobs is the number of River jobs in one queue and state.
type QueueJobs struct {
	Queue, State string
	Count        int64
	// Oldest is the age of the job in this queue and state scheduled earliest (negative for
	// jobs scheduled in the future).
	Oldest time.Duration
}

// MetricsQueueJobs counts River jobs by queue and state.
func (q *Queries) MetricsQueueJobs(ctx context.Context) ([]QueueJobs, error) {
	rows, err := q.q.MetricsQueueJobs(ctx)
	if err != nil {
		return nil, fmt.Errorf("count jobs: %w", err)
	}
	out := make([]QueueJobs, len(rows))
	for i, r := range rows {
		out[i] = QueueJobs{Queue: r.Queue, State: r.State, Count: r.N,
			Oldest: time.Duration(r.OldestS * float64(time.Second))}
	}
	return out, nil
}

func nilIfEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// ErrDuplicateDelivery is returned by WebhookDeliveryInsert for a delivery id seen before.
var ErrDuplicateDelivery = errors.New("delivery seen before")

// errNoRows stands for a write that matched no row, for notFound.
var errNoRows = pgx.ErrNoRows

// uniqueConflict turns a unique violation into attune.ErrConflict.
func uniqueConflict(err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" {
		return fmt.Errorf("%w: already exists", attune.ErrConflict)
	}
	return err
}

// APIKeyLock takes a transaction-scoped lock that serialises the creation of the local key.
func (q *Queries) APIKeyLock(ctx context.Context) error {
	if err := q.q.APIKeyLock(ctx); err != nil {
		return fmt.Errorf("lock api keys: %w", err)
	}
	return nil
}

// FinishedExecution is an execution that reached a terminal status, for metrics.
type FinishedExecution struct {
	ActionRef, Status                  string
	ScheduledAt, StartedAt, FinishedAt *time.Time
}

// ExecutionsFinished lists the executions that finished in (after, upto], oldest first.
func (q *Queries) ExecutionsFinished(ctx context.Context, after, upto time.Time) ([]FinishedExecution, error) {
	rows, err := q.q.MetricsExecutionsFinished(ctx, dbsqlc.MetricsExecutionsFinishedParams{After: &after, Upto: &upto})
	if err != nil {
		return nil, fmt.Errorf("executions finished since %s: %w", after, err)
	}
	return mapSlice(rows, func(r dbsqlc.MetricsExecutionsFinishedRow) FinishedExecution {
		fin := r.FinishedAt
		return FinishedExecution{ActionRef: r.ActionRef, Status: r.Status, ScheduledAt: r.ScheduledAt, StartedAt: r.StartedAt, FinishedAt: &fin}
	}), nil
}

// RecordedEvent is an event's trigger, its source (timer, webhook or emit) and, for a timer
// fire, how late it was.
type RecordedEvent struct {
	TriggerRef, Source string
	Lateness           time.Duration
}

// EventsCreated lists the events recorded in (after, upto].
func (q *Queries) EventsCreated(ctx context.Context, after, upto time.Time) ([]RecordedEvent, error) {
	rows, err := q.q.MetricsEventsCreated(ctx, dbsqlc.MetricsEventsCreatedParams{After: after, Upto: upto})
	if err != nil {
		return nil, fmt.Errorf("events since %s: %w", after, err)
	}
	return mapSlice(rows, func(r dbsqlc.MetricsEventsCreatedRow) RecordedEvent {
		return RecordedEvent{TriggerRef: r.TriggerRef, Source: r.Source, Lateness: time.Duration(r.LatenessMs * float64(time.Millisecond))}
	}), nil
}

// Now is the database server's clock.
func (q *Queries) Now(ctx context.Context) (time.Time, error) {
	now, err := q.q.MetricsNow(ctx)
	if err != nil {
		return time.Time{}, fmt.Errorf("database clock: %w", err)
	}
	return now, nil
}
