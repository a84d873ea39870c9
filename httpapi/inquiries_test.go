package httpapi_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/attune-run/attune/httpapi"
)

// ask runs core.ask over the API with params (JSON) and waits until it is pending.
func (b *bundle) ask(params string) string {
	b.t.Helper()
	r := b.do("POST", "/api/v1/executions", []byte(`{"action": "core.ask", "parameters": `+params+`}`))
	require.Equal(b.t, 201, r.code, r.raw)
	id := fmt.Sprint(r.body["id"])
	require.Eventually(b.t, func() bool {
		return b.do("GET", "/api/v1/executions/"+id, nil).body["status"] == "pending"
	}, 30*time.Second, 20*time.Millisecond)
	return id
}

// PUT /api/v1/inquiries/{id}: a key not among the users gets 403; an answer that does not match
// the schema gets 422 listing every field, and changes nothing; a valid one completes the
// execution with result.response and records the key; a second answer is 409.
func TestRespondOverHTTP(t *testing.T) {
	t.Parallel()
	b := setup(t)
	opsKey, hash := httpapi.NewKey()
	_, err := b.env.DB.AutoCommit().APIKeyInsert(context.Background(), "ops-bot", hash)
	require.NoError(t, err)
	id := b.ask(`{"users": ["ops-bot"], "route": "chat", "schema": {"type": "object", "properties": {
		"approve": {"type": "boolean", "required": true}, "reason": {"type": "string", "required": true}}}}`)
	path := "/api/v1/inquiries/" + id
	asOps := []string{"Authorization", "Bearer " + opsKey}

	r := b.do("GET", "/api/v1/inquiries?status=pending", nil)
	require.Equal(t, 200, r.code, r.raw)
	items := r.body["items"].([]any)
	require.Len(t, items, 1)
	require.Equal(t, "chat", items[0].(map[string]any)["route"])
	r = b.do("GET", path, nil)
	require.Equal(t, 200, r.code, r.raw)
	require.Equal(t, "pending", r.body["status"])

	r = b.do("PUT", path, []byte(`{"response": {"approve": true, "reason": "ok"}}`))
	require.Equal(t, 403, r.code, r.raw)
	require.Contains(t, r.body["detail"], `API key "test" may not answer inquiry`)

	r = b.do("PUT", path, []byte(`{"response": {"approve": "yes"}}`), asOps...)
	require.Equal(t, 422, r.code, r.raw)
	require.Equal(t, []string{"response.approve", "response.reason"}, fieldsOf(r))
	require.Equal(t, "pending", b.do("GET", path, nil).body["status"], "nothing changed")

	r = b.do("PUT", path, []byte(`{"id": "`+id+`", "response": {"approve": true, "reason": "ship it"}}`), asOps...)
	require.Equal(t, 200, r.code, r.raw)
	require.Equal(t, "responded", r.body["status"])
	require.Equal(t, "api:ops-bot", r.body["responded_by"])
	x := b.do("GET", "/api/v1/executions/"+id, nil)
	require.Equal(t, "completed", x.body["status"])
	require.Equal(t, map[string]any{"response": map[string]any{"approve": true, "reason": "ship it"}}, x.body["result"])

	r = b.do("PUT", path, []byte(`{"response": {"approve": false, "reason": "late"}}`), asOps...)
	require.Equal(t, 409, r.code, r.raw)
	require.Contains(t, r.body["detail"], "already answered by api:ops-bot")

	r = b.do("PUT", "/api/v1/inquiries/424242", []byte(`{"response": {}}`))
	require.Equal(t, 404, r.code, r.raw)
	r = b.do("PUT", path, []byte(`{"answer": {}}`))
	require.Equal(t, 422, r.code, r.raw)
	require.Equal(t, []string{"answer", "response"}, fieldsOf(r))
}
