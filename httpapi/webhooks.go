package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/db"
	"github.com/attune-run/attune/jobs"
)

// strippedHeaders never reach an event payload: credentials and signatures.
var strippedHeaders = []string{"authorization", "proxy-authorization", "cookie", "st2-api-key",
	"x-hub-signature", "x-hub-signature-256", "stripe-signature", "webhook-signature"}

// maxDeliveryID bounds a delivery id.
const maxDeliveryID = 256

// webhook receives POST /api/v1/webhooks/{name}: it verifies the request as the webhook is
// configured (over the raw bytes, before parsing), records the event {body, headers, query,
// webhook} with its processing job in one transaction, and answers 202 {event_id}. A delivery
// id seen before answers 200 with the first event's id and records nothing.
func (s *Server) webhook(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	sw := &statusWriter{ResponseWriter: w}
	label := name
	defer func() { s.metrics.webhook(label, sw.code) }()
	w = sw

	hook, found, err := s.lookupWebhook(r.Context(), name)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	if !found {
		label = "(unknown)" // no label per guessed name
		writeProblem(w, problem(http.StatusNotFound, "no webhook %q: no rule has trigger_ref core.webhook with trigger_params.url %q", name, name))
		return
	}
	body, p := readBody(r)
	if p != nil {
		writeProblem(w, p)
		return
	}
	if err := s.verifyWebhook(r, hook, body); err != nil {
		var se errSignature
		switch {
		case errors.As(err, &se):
			writeProblem(w, problem(http.StatusUnauthorized, "webhook %s (verify %s): %v; nothing was recorded", name, hook.Verify, err))
		default:
			s.unauthorized(w, r, err)
		}
		return
	}
	parsed, p := parseWebhookBody(r.Header.Get("Content-Type"), body)
	if p != nil {
		writeProblem(w, p)
		return
	}
	delivery := deliveryID(hook, r.Header, parsed)
	if len(delivery) > maxDeliveryID {
		writeProblem(w, problem(http.StatusBadRequest, "the delivery id is longer than %d bytes", maxDeliveryID))
		return
	}
	payload := map[string]any{
		"body": parsed, "headers": payloadHeaders(r.Header, hook.Header),
		"query": queryMap(r.URL.Query()), "webhook": name,
	}
	id, dup, err := s.recordWebhook(r.Context(), name, delivery, payload)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	if dup {
		writeJSON(w, http.StatusOK, map[string]any{"event_id": id, "duplicate": true})
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"event_id": id})
}

// lookupWebhook returns a webhook's settings: its row, or apikey for a name only rules know.
func (s *Server) lookupWebhook(ctx context.Context, name string) (db.Webhook, bool, error) {
	q := s.d.DB.AutoCommit()
	hook, err := q.Webhook(ctx, name)
	if err == nil {
		return hook, true, nil
	}
	if !errors.Is(err, attune.ErrNotFound) {
		return hook, false, err
	}
	ok, err := q.WebhookHasRule(ctx, name)
	return db.Webhook{Name: name, Verify: VerifyAPIKey}, ok, err
}

// verifyWebhook checks the request as the webhook is configured; an errSignature, errNoKey or
// errBadKey means 401.
func (s *Server) verifyWebhook(r *http.Request, hook db.Webhook, body []byte) error {
	switch hook.Verify {
	case VerifyNone:
		return nil
	case VerifyAPIKey, "":
		_, err := s.authenticate(r.Context(), r)
		return err
	}
	if s.d.Secrets == nil {
		return errors.New("webhook " + hook.Name + " has a secret, but secrets.key is not set on this replica")
	}
	secret, err := s.d.Secrets.Open(hook.Secret)
	if err != nil {
		return err
	}
	return Signer{Mode: hook.Verify, Secret: secret, Header: hook.Header, Encoding: hook.Encoding}.Verify(r.Header, body, time.Now())
}

// parseWebhookBody reads a body as JSON (by Content-Type), a form, or text.
func parseWebhookBody(contentType string, body []byte) (any, *Problem) {
	if len(body) == 0 {
		return nil, nil
	}
	if !utf8.Valid(body) {
		return nil, problem(http.StatusBadRequest, "the request body is not valid UTF-8; send JSON, a form or text encoded as UTF-8")
	}
	mt, _, _ := mime.ParseMediaType(contentType)
	switch {
	case mt == "application/json" || strings.HasSuffix(mt, "+json"):
		if p := checkJSON(body); p != nil {
			return nil, p
		}
		var v any
		_ = json.Unmarshal(body, &v) // checkJSON found it valid
		return v, nil
	case mt == "application/x-www-form-urlencoded":
		vals, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, problem(http.StatusBadRequest, "the form body does not parse: %v", err)
		}
		return queryMap(vals), nil
	}
	return string(body), nil
}

// queryMap turns url.Values into JSON: one value as a string, several as a list.
func queryMap(v url.Values) map[string]any {
	out := make(map[string]any, len(v))
	for k, vs := range v {
		if len(vs) == 1 {
			out[k] = vs[0]
		} else {
			out[k] = vs
		}
	}
	return out
}

// payloadHeaders lower-cases header names and drops credentials and signatures.
func payloadHeaders(h http.Header, sigHeader string) map[string]string {
	out := make(map[string]string, len(h))
	for k, vs := range h {
		out[strings.ToLower(k)] = strings.Join(vs, ", ")
	}
	for _, k := range strippedHeaders {
		delete(out, k)
	}
	if sigHeader != "" {
		delete(out, strings.ToLower(sigHeader))
	}
	return out
}

// deliveryID is the sender's id of this delivery, the same on a redelivery: Idempotency-Key,
// X-GitHub-Delivery, webhook-id, or a Stripe event's id. Empty: no dedupe (identical bodies
// are distinct deliveries).
func deliveryID(hook db.Webhook, h http.Header, body any) string {
	for _, k := range []string{"Idempotency-Key", "X-GitHub-Delivery", "webhook-id"} {
		if v := strings.TrimSpace(h.Get(k)); v != "" {
			return v
		}
	}
	if hook.Verify == VerifyStripe {
		if m, ok := body.(map[string]any); ok {
			if id, ok := m["id"].(string); ok {
				return id
			}
		}
	}
	return ""
}

// errDuplicate rolls back a webhook's transaction when its delivery id was seen before.
var errDuplicate = errors.New("duplicate delivery")

// recordWebhook records the event, its processing job and its delivery id in one transaction.
// For a delivery id seen before it records nothing and returns the first event's id.
func (s *Server) recordWebhook(ctx context.Context, name, delivery string, payload map[string]any) (int64, bool, error) {
	if delivery != "" {
		id, err := s.d.DB.AutoCommit().WebhookDeliveryEvent(ctx, name, delivery)
		if err == nil {
			return id, true, nil
		}
		if !errors.Is(err, attune.ErrNotFound) {
			return 0, false, err
		}
	}
	var ev attune.Event
	err := s.d.DB.InTx(ctx, func(q *db.Queries) error {
		var err error
		if ev, err = q.EventInsert(ctx, db.NewEvent{TriggerRef: attune.TriggerWebhook, Payload: payload}); err != nil {
			return err
		}
		if delivery != "" {
			if err := q.WebhookDeliveryInsert(ctx, name, delivery, ev.ID); errors.Is(err, db.ErrDuplicateDelivery) {
				return errDuplicate
			} else if err != nil {
				return err
			}
		}
		_, err = s.d.Pipeline.River.InsertTx(ctx, q.Tx(), jobs.EventProcessArgs{EventID: ev.ID}, nil)
		return err
	})
	if errors.Is(err, errDuplicate) { // a concurrent redelivery won the race
		id, err := s.d.DB.AutoCommit().WebhookDeliveryEvent(ctx, name, delivery)
		return id, true, err
	}
	return ev.ID, false, err
}
