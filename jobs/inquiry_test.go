package jobs_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/db"
	"github.com/attune-run/attune/internal/attunetest"
	"github.com/attune-run/attune/jobs"
	"github.com/attune-run/attune/params"
)

// waitPending polls an execution until it is pending (core.ask waiting for its answer).
func waitPending(t *testing.T, e *attunetest.Env, id int64) attune.Execution {
	t.Helper()
	var x attune.Execution
	require.Eventually(t, func() bool {
		var err error
		x, err = e.DB.AutoCommit().Execution(context.Background(), id)
		require.NoError(t, err)
		require.False(t, x.Status.Terminal(), "execution %d ended %s: %s", id, x.Status, x.Error)
		return x.Status == attune.StatusPending
	}, 10*time.Second, 20*time.Millisecond)
	return x
}

// askPack has a rule on core.inquiry that passes the inquiry's id and route to a noop action,
// as a notification rule would.
var askPack = map[string]string{
	"pack.yaml":         "ref: notify\nversion: 1.0.0\n",
	"actions/tell.yaml": "ref: tell\nrunner_type: noop\nparameters: {id: {type: integer}, route: {type: string}}\n",
	"rules/on_inquiry.yaml": "ref: on_inquiry\ntrigger_ref: core.inquiry\naction_ref: tell\n" +
		"action_params: {id: \"{{ event.payload.id }}\", route: \"{{ event.payload.route }}\"}\n",
}

// core.ask holds no worker: its execution goes pending with an inquiry (StackStorm's default
// schema, the ttl's expiry), an event on core.inquiry fires a rule, and a redelivered dispatch
// creates no second inquiry or event.
func TestAskGoesPendingWithInquiryAndEvent(t *testing.T) {
	t.Parallel()
	e := attunetest.New(t)
	ctx := context.Background()
	registerPack(t, e, askPack)

	before := time.Now()
	x, err := e.P.Run(ctx, "core.ask", map[string]any{"route": "ops", "users": []any{"alice"}, "ttl": 30}, 0)
	require.NoError(t, err)
	x = waitPending(t, e, x.ID)
	require.Nil(t, x.Result)

	inq, err := e.DB.AutoCommit().Inquiry(ctx, x.ID)
	require.NoError(t, err)
	require.Equal(t, attune.InquiryPending, inq.Status)
	require.Equal(t, "ops", inq.Route)
	require.Equal(t, []string{"alice"}, inq.Users)
	require.Equal(t, 30, inq.TTLMinutes)
	require.NotNil(t, inq.ExpiresAt)
	require.WithinDuration(t, before.Add(30*time.Minute), *inq.ExpiresAt, time.Minute)
	props := inq.Schema["properties"].(map[string]any)
	require.Equal(t, "boolean", props["continue"].(map[string]any)["type"], "StackStorm's default schema")
	require.Equal(t, 1, e.JobCount(t, jobs.KindExecutionDispatch, x.ID))

	hist, err := e.DB.AutoCommit().History(ctx, x.ID)
	require.NoError(t, err)
	require.Equal(t, attune.StatusPending, hist[len(hist)-1].To)

	// The rule on core.inquiry ran with the inquiry's id and route.
	var told attune.Execution
	require.Eventually(t, func() bool {
		xs, err := e.DB.AutoCommit().Executions(ctx, db.ExecutionFilter{ActionRef: "notify.tell"})
		require.NoError(t, err)
		if len(xs) == 1 && xs[0].Status.Terminal() {
			told = xs[0]
			return true
		}
		return false
	}, 10*time.Second, 20*time.Millisecond)
	require.Equal(t, attune.StatusCompleted, told.Status, told.Error)
	require.Equal(t, float64(x.ID), told.Parameters["id"])
	require.Equal(t, "ops", told.Parameters["route"])

	// A redelivered dispatch finds the execution pending and does nothing more.
	_, err = e.River.Insert(ctx, jobs.ExecutionDispatchArgs{ExecutionID: x.ID},
		&river.InsertOpts{Queue: jobs.RuntimeQueue(attune.RuntimeInquirer)})
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		var n int
		require.NoError(t, e.DB.Pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = $1
			AND (args->>'execution_id')::bigint = $2 AND state <> 'completed'`, jobs.KindExecutionDispatch, x.ID).Scan(&n))
		return n == 0
	}, 10*time.Second, 20*time.Millisecond)
	require.Equal(t, 1, countRows(t, e, "inquiry"))
	var events int
	require.NoError(t, e.DB.Pool.QueryRow(ctx, `SELECT count(*) FROM attune.event WHERE trigger_ref = 'core.inquiry'`).Scan(&events))
	require.Equal(t, 1, events)
	x = waitPending(t, e, x.ID)
}

// A valid answer completes the execution with result.response and records who answered; an
// invalid one lists every field at fault and changes nothing; a second answer is a conflict that
// names the first; an API key not among the users may not answer.
func TestRespondToInquiry(t *testing.T) {
	t.Parallel()
	e := attunetest.New(t)
	ctx := context.Background()
	schema := map[string]any{"type": "object", "additionalProperties": false, "properties": map[string]any{
		"approve": map[string]any{"type": "boolean", "required": true},
		"reason":  map[string]any{"type": "string", "required": true},
		"count":   map[string]any{"type": "integer", "minimum": 1},
	}}
	x, err := e.P.Run(ctx, "core.ask", map[string]any{"schema": schema, "users": []any{"alice"}}, 0)
	require.NoError(t, err)
	waitPending(t, e, x.ID)

	_, err = e.P.Respond(ctx, x.ID, map[string]any{"approve": "yes", "count": 0, "extra": 1}, jobs.Responder{Who: "cli:root"})
	var fe params.FieldErrors
	require.ErrorAs(t, err, &fe)
	require.ErrorIs(t, err, attune.ErrInvalid)
	fields := map[string]string{}
	for _, f := range fe {
		fields[f.Field] = f.Msg
	}
	require.Len(t, fields, 4, "every field at fault: %v", fe)
	require.Equal(t, "must be true or false, got \"yes\"", fields["approve"])
	require.Equal(t, "required", fields["reason"])
	require.Equal(t, "must be >= 1, got 0", fields["count"])
	require.Contains(t, fields["extra"], "unknown")
	inq, err := e.DB.AutoCommit().Inquiry(ctx, x.ID)
	require.NoError(t, err)
	require.Equal(t, attune.InquiryPending, inq.Status, "nothing changed")
	waitPending(t, e, x.ID)

	_, err = e.P.Respond(ctx, x.ID, map[string]any{"approve": true, "reason": "ok"}, jobs.Responder{Who: "api:bob", Key: "bob"})
	require.ErrorIs(t, err, attune.ErrForbidden)
	require.ErrorContains(t, err, `API key "bob" may not answer inquiry`)

	inq, err = e.P.Respond(ctx, x.ID, map[string]any{"approve": true, "reason": "ship it"}, jobs.Responder{Who: "api:alice", Key: "alice"})
	require.NoError(t, err)
	require.Equal(t, attune.InquiryResponded, inq.Status)
	require.Equal(t, "api:alice", inq.RespondedBy)
	x = e.WaitTerminal(t, x.ID, 5*time.Second)
	require.Equal(t, attune.StatusCompleted, x.Status)
	require.JSONEq(t, `{"response": {"approve": true, "reason": "ship it"}}`, string(x.Result))

	_, err = e.P.Respond(ctx, x.ID, map[string]any{"approve": false, "reason": "late"}, jobs.Responder{Who: "cli:root"})
	var closed *jobs.ClosedError
	require.ErrorAs(t, err, &closed)
	require.ErrorIs(t, err, attune.ErrConflict)
	require.ErrorContains(t, err, "already answered by api:alice")

	_, err = e.P.Respond(ctx, 999999, map[string]any{}, jobs.Responder{Who: "cli:root"})
	require.ErrorIs(t, err, attune.ErrNotFound)
	_, err = e.P.Respond(ctx, x.ID, map[string]any{"big": strings.Repeat("x", attune.MaxPayloadBytes)}, jobs.Responder{Who: "cli:root"})
	require.ErrorIs(t, err, attune.ErrInvalid)
	require.ErrorContains(t, err, "over the limit")
}

// Two responders at once: exactly one wins, the other hears that it was already answered.
func TestRespondTwiceAtOnceOneWins(t *testing.T) {
	t.Parallel()
	e := attunetest.New(t)
	ctx := context.Background()
	x, err := e.P.Run(ctx, "core.ask", nil, 0)
	require.NoError(t, err)
	waitPending(t, e, x.ID)
	other := e.Replica(t, "replica-b")
	errs := make(chan error, 2)
	for _, p := range []*jobs.Pipeline{e.P, other} {
		go func() {
			_, err := p.Respond(ctx, x.ID, map[string]any{"continue": true}, jobs.Responder{Who: "cli:" + p.Worker})
			errs <- err
		}()
	}
	var wins, conflicts int
	for range 2 {
		err := <-errs
		switch {
		case err == nil:
			wins++
		case errors.Is(err, attune.ErrConflict):
			conflicts++
		default:
			t.Fatalf("unexpected error: %v", err)
		}
	}
	require.Equal(t, 1, wins)
	require.Equal(t, 1, conflicts)
	x = e.WaitTerminal(t, x.ID, 5*time.Second)
	require.JSONEq(t, `{"response": {"continue": true}}`, string(x.Result))
}

// An inquiry nobody answers within its ttl expires and its execution ends timeout; an answer
// after that is a conflict. A ttl of 0 never expires. The clock is moved, not waited for.
func TestInquiryExpires(t *testing.T) {
	t.Parallel()
	// Expiries land in the past.
	e := attunetest.New(t, attunetest.Options{Now: func() time.Time { return time.Now().Add(-2 * time.Minute) }})
	ctx := context.Background()

	x, err := e.P.Run(ctx, "core.ask", map[string]any{"ttl": 1}, 0)
	require.NoError(t, err)
	forever, err := e.P.Run(ctx, "core.ask", map[string]any{"ttl": 0}, 0)
	require.NoError(t, err)

	x = e.WaitTerminal(t, x.ID, 10*time.Second)
	require.Equal(t, attune.StatusTimeout, x.Status)
	require.Contains(t, x.Error, "not answered within its ttl of 1 minutes")
	inq, err := e.DB.AutoCommit().Inquiry(ctx, x.ID)
	require.NoError(t, err)
	require.Equal(t, attune.InquiryExpired, inq.Status)

	_, err = e.P.Respond(ctx, x.ID, map[string]any{"continue": true}, jobs.Responder{Who: "cli:root"})
	require.ErrorIs(t, err, attune.ErrConflict)
	require.ErrorContains(t, err, "expired")

	waitPending(t, e, forever.ID)
	inq, err = e.DB.AutoCommit().Inquiry(ctx, forever.ID)
	require.NoError(t, err)
	require.Nil(t, inq.ExpiresAt)
	var n int
	require.NoError(t, e.DB.Pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = $1
		AND (args->>'inquiry_id')::bigint = $2`, jobs.KindInquiryExpire, forever.ID).Scan(&n))
	require.Zero(t, n, "no expiry for ttl 0")
}

// Cancelling a pending core.ask ends it cancelled with its inquiry; the reaper, which ends
// executions of silent workers, leaves a pending one alone: no worker holds it.
func TestCancelAndReapPendingInquiry(t *testing.T) {
	t.Parallel()
	e := attunetest.New(t)
	ctx := context.Background()
	x, err := e.P.Run(ctx, "core.ask", nil, 0)
	require.NoError(t, err)
	kept, err := e.P.Run(ctx, "core.ask", nil, 0)
	require.NoError(t, err)
	waitPending(t, e, x.ID)
	waitPending(t, e, kept.ID)

	n, err := e.P.Reap(ctx, -time.Hour) // every worker counts as silent
	require.NoError(t, err)
	require.Zero(t, n)
	waitPending(t, e, kept.ID)

	x, err = e.P.Cancel(ctx, x.ID, "cli:root")
	require.NoError(t, err)
	require.Equal(t, attune.StatusCancelled, x.Status)
	inq, err := e.DB.AutoCommit().Inquiry(ctx, x.ID)
	require.NoError(t, err)
	require.Equal(t, attune.InquiryCancelled, inq.Status)
	_, err = e.P.Respond(ctx, x.ID, map[string]any{"continue": true}, jobs.Responder{Who: "cli:root"})
	require.ErrorIs(t, err, attune.ErrConflict)
}

// A schema that does not compile, or StackStorm roles attune cannot check, fail the execution
// with the reason; no inquiry is made.
func TestAskWithBadSchemaFails(t *testing.T) {
	t.Parallel()
	e := attunetest.New(t)
	ctx := context.Background()
	x, err := e.P.Run(ctx, "core.ask", map[string]any{"schema": map[string]any{"type": 7}}, 0)
	require.NoError(t, err)
	x = e.WaitTerminal(t, x.ID, 10*time.Second)
	require.Equal(t, attune.StatusFailed, x.Status)
	require.Contains(t, x.Error, "core.ask: invalid: schema does not compile: at '/type'")
	x, err = e.P.Run(ctx, "core.ask", map[string]any{"roles": []any{"admin"}}, 0)
	require.NoError(t, err)
	x = e.WaitTerminal(t, x.ID, 10*time.Second)
	require.Equal(t, attune.StatusFailed, x.Status)
	require.Contains(t, x.Error, "attune has no RBAC roles")
	require.Zero(t, countRows(t, e, "inquiry"))
}

// An answer and a cancel at the same moment: one of them ends the execution, the other is told
// it came too late (a conflict, never a deadlock), and the inquiry agrees with the execution.
func TestRespondAndCancelAtOnce(t *testing.T) {
	t.Parallel()
	e := attunetest.New(t)
	ctx := context.Background()
	other := e.Replica(t, "replica-b")
	var ids []int64
	for range 5 {
		x, err := e.P.Run(ctx, "core.ask", nil, 0)
		require.NoError(t, err)
		ids = append(ids, x.ID)
	}
	for _, id := range ids {
		waitPending(t, e, id)
		errs := make(chan error, 2)
		go func() {
			_, err := e.P.Respond(ctx, id, map[string]any{"continue": true}, jobs.Responder{Who: "cli:alice"})
			errs <- err
		}()
		go func() {
			_, err := other.Cancel(ctx, id, "cli:bob")
			errs <- err
		}()
		var wins int
		for range 2 {
			err := <-errs
			if err == nil {
				wins++
				continue
			}
			require.ErrorIs(t, err, attune.ErrConflict)
		}
		require.Equal(t, 1, wins)
		x, err := e.DB.AutoCommit().Execution(ctx, id)
		require.NoError(t, err)
		inq, err := e.DB.AutoCommit().Inquiry(ctx, id)
		require.NoError(t, err)
		want := map[attune.ExecutionStatus]attune.InquiryStatus{
			attune.StatusCompleted: attune.InquiryResponded, attune.StatusCancelled: attune.InquiryCancelled,
		}
		require.Equal(t, want[x.Status], inq.Status, "execution %s", x.Status)
	}
}
