package httpapi_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/attune-run/attune/db"
	"github.com/attune-run/attune/httpapi"
)

// GitHub's published test vector verifies; one byte off does not.
func TestGitHubSignatureVector(t *testing.T) {
	t.Parallel()
	s := httpapi.Signer{Mode: httpapi.VerifyGitHub, Secret: []byte("It's a Secret to Everybody")}
	h := http.Header{}
	h.Set("X-Hub-Signature-256", "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17")
	require.NoError(t, s.Verify(h, []byte("Hello, World!"), time.Now()))
	require.ErrorContains(t, s.Verify(h, []byte("Hello, World?"), time.Now()), "does not match")
}

func hmacHex(secret, msg string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(msg))
	return hex.EncodeToString(m.Sum(nil))
}

// webhookPack registers rules on two webhooks: deploy and other.
func (b *bundle) webhookPack() {
	b.registerPack(map[string]string{
		"pack.yaml":         "ref: hooks\nversion: 1.0.0\n",
		"actions/note.yaml": "ref: note\nrunner_type: noop\nparameters:\n  ref: {type: string}\n",
		"rules/deploy.yaml": "ref: deploy\ntrigger_ref: core.webhook\ntrigger_params: {url: deploy}\naction_ref: note\naction_params: {ref: \"{{ event.payload.body.ref ?? '' }}\"}\n",
		"rules/other.yaml":  "ref: other\ntrigger_ref: core.webhook\ntrigger_params: {url: other}\naction_ref: note\n",
	})
}

func (b *bundle) setWebhook(name, mode, secret, header, encoding string) {
	b.t.Helper()
	w := db.Webhook{Name: name, Verify: mode, Header: header, Encoding: encoding}
	if encoding == "" {
		w.Encoding = "hex"
	}
	if secret != "" {
		w.Secret = b.env.P.Secrets.Seal([]byte(secret))
	}
	_, err := b.env.DB.AutoCommit().WebhookUpsert(context.Background(), w)
	require.NoError(b.t, err)
}

// A GitHub-signed delivery is recorded as {body, headers, query, webhook} with the signature
// headers removed, answered 202, and fires only the rules of its URL; a redelivery (same
// X-GitHub-Delivery) answers 200 with the first event; a bad signature is 401 and stores nothing.
func TestWebhookGitHub(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.webhookPack()
	b.setWebhook("deploy", httpapi.VerifyGitHub, "It's a Secret to Everybody", "", "")
	body := `{"ref": "main"}`
	sig := "sha256=" + hmacHex("It's a Secret to Everybody", body)
	send := func(body, sig, delivery string) response {
		return b.do("POST", "/api/v1/webhooks/deploy?env=prod", []byte(body), "Authorization", "",
			"X-Hub-Signature-256", sig, "X-GitHub-Delivery", delivery, "X-GitHub-Event", "push")
	}
	r := send(body, sig, "d-1")
	require.Equal(t, 202, r.code, r.raw)
	id := int64(r.body["event_id"].(float64))

	ev, err := b.env.DB.AutoCommit().Event(context.Background(), id)
	require.NoError(t, err)
	require.Equal(t, "core.webhook", ev.TriggerRef)
	require.Equal(t, map[string]any{"ref": "main"}, ev.Payload["body"])
	require.Equal(t, map[string]any{"env": "prod"}, ev.Payload["query"])
	require.Equal(t, "deploy", ev.Payload["webhook"])
	headers := ev.Payload["headers"].(map[string]any)
	require.Equal(t, "push", headers["x-github-event"], "names lower-cased")
	require.NotContains(t, headers, "x-hub-signature-256")
	require.NotContains(t, headers, "authorization")

	require.Eventually(t, func() bool {
		xs, err := b.env.DB.AutoCommit().ExecutionsByEvent(context.Background(), id)
		return err == nil && len(xs) == 1 && xs[0].Status == "completed"
	}, 30*time.Second, 50*time.Millisecond, "the deploy rule runs")
	outs, err := b.env.DB.AutoCommit().RuleOutcomesByEvent(context.Background(), id)
	require.NoError(t, err)
	require.Len(t, outs, 1, "only the rule of this URL is considered")
	require.Equal(t, "hooks.deploy", outs[0].RuleRef)

	r = send(body, sig, "d-1")
	require.Equal(t, 200, r.code, "a redelivery")
	require.Equal(t, float64(id), r.body["event_id"])

	events := b.count("attune.event")
	r = send(`{"ref": "evil"}`, sig, "d-2")
	require.Equal(t, 401, r.code, "a signature for another body")
	require.Contains(t, r.body["detail"], "does not match")
	r = send(body, "", "d-3")
	require.Equal(t, 401, r.code, "no signature")
	require.Equal(t, events, b.count("attune.event"), "nothing stored")

	r = send(`{"ref": `, "sha256="+hmacHex("It's a Secret to Everybody", `{"ref": `), "d-4")
	require.Equal(t, 400, r.code, "unparseable JSON with Content-Type: application/json")
	require.Equal(t, events, b.count("attune.event"))

	// Identical bodies without a delivery id are distinct deliveries.
	ping := func() response {
		return b.do("POST", "/api/v1/webhooks/deploy", []byte(body), "Authorization", "", "X-Hub-Signature-256", sig)
	}
	first, second := ping(), ping()
	require.Equal(t, 202, first.code)
	require.Equal(t, 202, second.code)
	require.NotEqual(t, first.body["event_id"], second.body["event_id"])
}

// Stripe: any v1 over "t.body" within 300 s; an expired timestamp is 401; the event id dedupes.
func TestWebhookStripe(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.webhookPack()
	b.setWebhook("deploy", httpapi.VerifyStripe, "whsec_stripe_test", "", "")
	body := `{"id": "evt_1", "type": "payment_intent.succeeded"}`
	header := func(at time.Time, secrets ...string) string {
		ts := strconv.FormatInt(at.Unix(), 10)
		h := "t=" + ts
		for _, s := range secrets {
			h += ",v1=" + hmacHex(s, ts+"."+body)
		}
		return h
	}
	send := func(sig string) response {
		return b.do("POST", "/api/v1/webhooks/deploy", []byte(body), "Authorization", "", "Stripe-Signature", sig)
	}
	r := send(header(time.Now(), "old_secret", "whsec_stripe_test"))
	require.Equal(t, 202, r.code, "any v1 may match (rotation): %s", r.raw)
	id := r.body["event_id"]
	r = send(header(time.Now(), "whsec_stripe_test"))
	require.Equal(t, 200, r.code, "the Stripe event id dedupes")
	require.Equal(t, id, r.body["event_id"])

	events := b.count("attune.event")
	r = send(header(time.Now().Add(-10*time.Minute), "whsec_stripe_test"))
	require.Equal(t, 401, r.code, "an expired timestamp")
	require.Contains(t, r.body["detail"], "timestamp")
	r = send(header(time.Now(), "wrong"))
	require.Equal(t, 401, r.code)
	require.Equal(t, events, b.count("attune.event"))
}

// Standard Webhooks: v1,<base64> over "id.timestamp.body" with the whsec_ key; webhook-id dedupes.
func TestWebhookStandard(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.webhookPack()
	key := []byte("0123456789abcdef0123456789abcdef")
	b.setWebhook("deploy", httpapi.VerifyStandard, "whsec_"+base64.StdEncoding.EncodeToString(key), "", "")
	body := `{"type": "user.created"}`
	sign := func(id string, at time.Time) (string, string) {
		ts := strconv.FormatInt(at.Unix(), 10)
		m := hmac.New(sha256.New, key)
		m.Write([]byte(id + "." + ts + "." + body))
		return ts, "v1,bm90IHRoaXMgb25l v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
	}
	ts, sig := sign("msg_1", time.Now())
	send := func(id, ts, sig string) response {
		return b.do("POST", "/api/v1/webhooks/deploy", []byte(body), "Authorization", "",
			"webhook-id", id, "webhook-timestamp", ts, "webhook-signature", sig)
	}
	r := send("msg_1", ts, sig)
	require.Equal(t, 202, r.code, r.raw)
	r = send("msg_1", ts, sig)
	require.Equal(t, 200, r.code, "webhook-id dedupes")
	r = send("msg_2", ts, sig)
	require.Equal(t, 401, r.code, "the signature covers the id")
	old, oldSig := sign("msg_3", time.Now().Add(-time.Hour))
	require.Equal(t, 401, send("msg_3", old, oldSig).code, "an expired timestamp")
}

// hmac-sha256 in a header of your choice (base64 here), a form body, apikey by default, none,
// unknown URLs, and the body cap.
func TestWebhookModes(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.webhookPack()
	b.setWebhook("deploy", httpapi.VerifyHMAC, "s3cret", "X-Signature", "base64")
	form := "ref=main&tag=a&tag=b"
	m := hmac.New(sha256.New, []byte("s3cret"))
	m.Write([]byte(form))
	sig := base64.StdEncoding.EncodeToString(m.Sum(nil))
	r := b.do("POST", "/api/v1/webhooks/deploy", []byte(form), "Authorization", "",
		"Content-Type", "application/x-www-form-urlencoded", "X-Signature", sig, "Idempotency-Key", "k1")
	require.Equal(t, 202, r.code, r.raw)
	ev, err := b.env.DB.AutoCommit().Event(context.Background(), int64(r.body["event_id"].(float64)))
	require.NoError(t, err)
	require.Equal(t, map[string]any{"ref": "main", "tag": []any{"a", "b"}}, ev.Payload["body"])
	require.NotContains(t, ev.Payload["headers"], "x-signature", "the signature header is removed")
	r = b.do("POST", "/api/v1/webhooks/deploy", []byte(form), "Authorization", "",
		"Content-Type", "application/x-www-form-urlencoded", "X-Signature", sig, "Idempotency-Key", "k1")
	require.Equal(t, 200, r.code, "Idempotency-Key dedupes")

	// "other" has rules but no settings: an API key.
	require.Equal(t, 401, b.do("POST", "/api/v1/webhooks/other", []byte(`{}`), "Authorization", "").code)
	r = b.do("POST", "/api/v1/webhooks/other", []byte("plain text"), "Content-Type", "text/plain")
	require.Equal(t, 202, r.code, r.raw)
	ev, err = b.env.DB.AutoCommit().Event(context.Background(), int64(r.body["event_id"].(float64)))
	require.NoError(t, err)
	require.Equal(t, "plain text", ev.Payload["body"])

	b.setWebhook("other", httpapi.VerifyNone, "", "", "")
	require.Equal(t, 202, b.do("POST", "/api/v1/webhooks/other", []byte(`{}`), "Authorization", "").code)

	r = b.do("POST", "/api/v1/webhooks/nobody", []byte(`{}`))
	require.Equal(t, 404, r.code)
	require.Equal(t, "application/problem+json", r.contentType)

	r = b.do("POST", "/api/v1/webhooks/other", []byte(strings.Repeat("x", 10<<20)), "Content-Type", "text/plain")
	require.Equal(t, 413, r.code)
	r = b.do("POST", "/api/v1/webhooks/other", []byte("\xff\xfe"), "Content-Type", "text/plain")
	require.Equal(t, 400, r.code, "non-UTF-8")
	deep := strings.Repeat("[", 10000) + strings.Repeat("]", 10000)
	r = b.do("POST", "/api/v1/webhooks/other", []byte(deep))
	require.Equal(t, 400, r.code, "10,000 levels of nesting")
	require.Contains(t, fmt.Sprint(r.body["detail"]), "nested")
}
