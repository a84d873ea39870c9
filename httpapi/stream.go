package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/db"
)

// KeepAlive is how often an idle stream sends a comment, so proxies and clients keep it open.
const KeepAlive = 15 * time.Second

// Stream event names.
const (
	eventCreated  = "execution.created"
	eventUpdated  = "execution.updated"
	eventOutput   = "execution.output"
	eventEOF      = "EOF"      // the execution is terminal and all its output was sent
	eventShutdown = "shutdown" // the server is stopping; reconnect (with Last-Event-ID) elsewhere
)

// sse writes Server-Sent Events to one client. Its methods may be called from several
// goroutines (the events and the keep-alives).
type sse struct {
	mu sync.Mutex
	w  http.ResponseWriter
	rc *http.ResponseController
}

// startSSE answers 200 with an event stream, with no write deadline: a stream lasts as long as
// what it follows.
func startSSE(w http.ResponseWriter) *sse {
	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Time{})
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	w.WriteHeader(http.StatusOK)
	_ = rc.Flush()
	return &sse{w: w, rc: rc}
}

// event sends one event; id is left out when "". data is JSON, so it holds no newline.
func (s *sse) event(id, name string, data any) error {
	b, err := json.Marshal(data)
	if err != nil {
		return err
	}
	var sb strings.Builder
	if id != "" {
		sb.WriteString("id: " + id + "\n")
	}
	sb.WriteString("event: " + name + "\ndata: ")
	sb.Write(b)
	sb.WriteString("\n\n")
	return s.write(sb.String())
}

func (s *sse) write(text string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.w.Write([]byte(text)); err != nil {
		return err
	}
	return s.rc.Flush()
}

// keepAlive sends a comment every KeepAlive until ctx ends or the returned func is called,
// which returns once it no longer writes: a handler must not write after it returned.
func (s *sse) keepAlive(ctx context.Context) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(KeepAlive)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				if s.write(": keep-alive\n\n") != nil {
					return
				}
			}
		}
	}()
	return func() { cancel(); <-done }
}

// errShutdown is the cause of a stream's context when the server stops.
var errShutdown = errors.New("the server is stopping")

// streamContext is the request's context, also cancelled (with errShutdown) when the server
// shuts down: http.Server.Shutdown does not end a handler that is still writing.
func (s *Server) streamContext(r *http.Request) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancelCause(r.Context())
	go func() {
		select {
		case <-s.closing:
			cancel(errShutdown)
		case <-ctx.Done():
		}
	}()
	return ctx, func() { cancel(nil) }
}

// closeStreams ends every open stream with a final shutdown event (http.Server.RegisterOnShutdown).
func (s *Server) closeStreams() { s.closeOnce.Do(func() { close(s.closing) }) }

// finish ends a stream whose context ended: a final event when the server stops, nothing when
// the client left.
func (s *Server) finish(ctx context.Context, out *sse) {
	if errors.Is(context.Cause(ctx), errShutdown) {
		_ = out.event("", eventShutdown, map[string]string{"reason": "the server is stopping; reconnect with Last-Event-ID to resume"})
	}
}

// streamOutput: GET /stream/v1/executions/{id}/output replays an execution's stored output,
// follows new output from whichever replica runs it (LISTEN/NOTIFY, with polling as fallback),
// and ends with `event: EOF` once the execution is terminal. Each event's id is the batch's
// seq, so a client that reconnects with Last-Event-ID (or ?after=) misses nothing and sees
// nothing twice.
func (s *Server) streamOutput(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r, "execution")
	if !ok {
		return
	}
	var fe fields
	after := seqParam(r.URL.Query().Get("after"), "after", &fe)
	if v := r.Header.Get("Last-Event-ID"); v != "" {
		after = seqParam(v, "Last-Event-ID", &fe)
	}
	if badQuery(w, fe) {
		return
	}
	if _, err := s.d.DB.AutoCommit().Execution(r.Context(), id); errors.Is(err, attune.ErrNotFound) {
		notFoundExecution(w, id)
		return
	} else if err != nil {
		s.internal(w, r, err)
		return
	}
	ctx, cancel := s.streamContext(r)
	defer cancel()
	out := startSSE(w)
	defer out.keepAlive(ctx)()
	x, err := s.d.DB.FollowOutput(ctx, s.d.Hub, id, after, func(c attune.OutputChunk) error {
		return out.event(strconv.FormatInt(c.Seq, 10), eventOutput, toOutputView(c))
	})
	if err != nil {
		if ctx.Err() == nil {
			s.log.Warn("output stream ended", "execution_id", id, "error", err)
		}
		s.finish(ctx, out)
		return
	}
	_ = out.event("", eventEOF, map[string]any{"id": x.ID, "status": string(x.Status)})
}

// streamEvents: GET /stream/v1/stream?events=&action=&execution= streams execution.created,
// execution.updated and execution.output events (all, or those listed in events, comma
// separated), optionally of one action or one execution, as the hub hears them. It is a live
// feed, not a log: nothing is replayed.
func (s *Server) streamEvents(w http.ResponseWriter, r *http.Request) {
	var fe fields
	q := r.URL.Query()
	want := map[string]bool{}
	for _, e := range strings.Split(q.Get("events"), ",") {
		switch e = strings.TrimSpace(e); e {
		case "":
		case eventCreated, eventUpdated, eventOutput:
			want[e] = true
		default:
			fe.add("events", "unknown event %q (known: %s, %s, %s)", e, eventCreated, eventUpdated, eventOutput)
		}
	}
	if len(want) == 0 {
		want = map[string]bool{eventCreated: true, eventUpdated: true, eventOutput: true}
	}
	action := q.Get("action")
	var execution int64
	if v := q.Get("execution"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			fe.add("execution", "must be an execution id, got %q", v)
		}
		execution = n
	}
	if badQuery(w, fe) {
		return
	}
	if s.d.Hub == nil {
		writeProblem(w, problem(http.StatusServiceUnavailable, "this server does not listen for notifications; use another replica"))
		return
	}
	sub := s.d.Hub.Subscribe(func(n db.Notice) bool {
		if execution != 0 && n.ExecutionID != execution {
			return false
		}
		switch n.Channel {
		case db.ChannelExecution:
			return want[eventCreated] && n.Op == "created" || want[eventUpdated] && n.Op == "updated"
		case db.ChannelOutput:
			return want[eventOutput]
		}
		return false
	})
	defer sub.Close()
	ctx, cancel := s.streamContext(r)
	defer cancel()
	out := startSSE(w)
	defer out.keepAlive(ctx)()
	actions := map[int64]string{} // execution id → action ref, for output notices
	for {
		var n db.Notice
		select {
		case <-ctx.Done():
			s.finish(ctx, out)
			return
		case n = <-sub.C():
		}
		if n.Resync {
			continue
		}
		if err := s.sendNotice(ctx, out, n, action, actions); err != nil {
			if ctx.Err() == nil && !isClientGone(err) {
				s.log.Warn("event stream ended", "error", err)
			}
			s.finish(ctx, out)
			return
		}
	}
}

// maxActionCache bounds the execution → action map of one filtered event stream.
const maxActionCache = 10000

// sendNotice sends one notice as an event when it concerns action ("" for any).
func (s *Server) sendNotice(ctx context.Context, out *sse, n db.Notice, action string, actions map[int64]string) error {
	if action != "" && len(actions) > maxActionCache {
		clear(actions) // a long stream must not grow without bound; misses are re-read
	}
	if n.Channel == db.ChannelExecution {
		if action != "" {
			actions[n.ExecutionID] = n.ActionRef
		}
		if action != "" && n.ActionRef != action {
			return nil
		}
		name := eventUpdated
		if n.Op == "created" {
			name = eventCreated
		}
		return out.event("", name, map[string]any{"id": n.ExecutionID, "action_ref": n.ActionRef, "status": string(n.Status)})
	}
	q := s.d.DB.AutoCommit()
	ref, known := actions[n.ExecutionID]
	if action != "" && !known {
		x, err := q.Execution(ctx, n.ExecutionID)
		if err != nil {
			return err
		}
		ref, actions[n.ExecutionID] = x.ActionRef, x.ActionRef
	}
	if action != "" && ref != action {
		return nil
	}
	chunks, err := q.OutputSince(ctx, n.ExecutionID, n.Seq-1, 1)
	if err != nil || len(chunks) == 0 {
		return err // pruned meanwhile: nothing to send
	}
	v := struct {
		ID int64 `json:"id"`
		outputView
	}{n.ExecutionID, toOutputView(chunks[0])}
	return out.event("", eventOutput, v)
}

// isClientGone reports a write to a client that closed the connection.
func isClientGone(err error) bool {
	return err != nil && (errors.Is(err, context.Canceled) || strings.Contains(err.Error(), "broken pipe") ||
		strings.Contains(err.Error(), "connection reset"))
}
