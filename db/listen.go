package db

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/attune-run/attune"
)

// Channels the triggers of migration 00010 notify, in the transaction of the change.
const (
	// ChannelExecution carries {"op":"created"|"updated","id":N,"status":"…","action":"…"} for
	// every new execution and every status transition.
	ChannelExecution = "attune_execution"
	// ChannelOutput carries {"id":N,"seq":N,"stream":"stdout"|"stderr"} for every stored
	// output batch (attune.execution_output).
	ChannelOutput = "attune_output"
)

// Notice is one notification heard by a Hub.
type Notice struct {
	Channel     string                 // ChannelExecution or ChannelOutput; "" for a resync
	Op          string                 // "created" or "updated" (ChannelExecution)
	ExecutionID int64                  // the execution concerned
	Status      attune.ExecutionStatus // its new status (ChannelExecution)
	ActionRef   string                 // its action (ChannelExecution)
	Seq         int64                  // the batch stored (ChannelOutput)
	Stream      string                 // the batch's stream (ChannelOutput)
	// Resync says the hub (re)connected, so notices may have been missed: a subscriber should
	// read again what it follows.
	Resync bool
}

// Hub holds one LISTEN connection per process and fans its notices out to subscribers, so a
// thousand watchers cost one connection. Notices are hints, not a log: a subscriber that is
// slow loses notices (its channel is never allowed to block the hub), the connection may drop
// and reconnect, so a subscriber reads the database after each notice and also every second or
// so on its own (see FollowOutput).
type Hub struct {
	cfg *pgx.ConnConfig
	log *slog.Logger

	mu   sync.Mutex
	subs map[*Subscription]struct{}
}

// NewHub returns a hub listening with the connection settings of d's pool. It listens once Run
// is called.
func NewHub(d *DB, log *slog.Logger) *Hub {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Hub{cfg: d.Pool.Config().ConnConfig, log: log.With("component", "listen"), subs: map[*Subscription]struct{}{}}
}

// Run listens until ctx ends, reconnecting with backoff when the connection drops. After each
// (re)connection every subscriber gets a Resync notice. It returns ctx's error.
func (h *Hub) Run(ctx context.Context) error {
	wait := 100 * time.Millisecond
	for {
		err := h.listen(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		h.log.Warn("listening for notifications failed; reconnecting", "error", err, "retry_in", wait)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		wait = min(2*wait, 5*time.Second)
	}
}

// listen connects, listens and dispatches notices until the connection fails or ctx ends.
func (h *Hub) listen(ctx context.Context) error {
	conn, err := pgx.ConnectConfig(ctx, h.cfg.Copy())
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx)) //nolint:errcheck // closing a failed connection
	for _, ch := range []string{ChannelExecution, ChannelOutput} {
		if _, err := conn.Exec(ctx, "LISTEN "+ch); err != nil {
			return err
		}
	}
	h.broadcast(Notice{Resync: true})
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		notice, ok := parseNotice(n.Channel, n.Payload)
		if !ok {
			h.log.Warn("unreadable notification ignored", "channel", n.Channel)
			continue
		}
		h.broadcast(notice)
	}
}

// parseNotice decodes the payload of one of the channels.
func parseNotice(channel, payload string) (Notice, bool) {
	var p struct {
		Op     string `json:"op"`
		ID     int64  `json:"id"`
		Status string `json:"status"`
		Action string `json:"action"`
		Seq    int64  `json:"seq"`
		Stream string `json:"stream"`
	}
	if err := json.Unmarshal([]byte(payload), &p); err != nil || p.ID == 0 {
		return Notice{}, false
	}
	return Notice{
		Channel: channel, Op: p.Op, ExecutionID: p.ID, Status: attune.ExecutionStatus(p.Status),
		ActionRef: p.Action, Seq: p.Seq, Stream: p.Stream,
	}, true
}

func (h *Hub) broadcast(n Notice) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs {
		if !n.Resync && s.match != nil && !s.match(n) {
			continue
		}
		select {
		case s.c <- n:
		default: // a slow subscriber loses the hint; it polls anyway
		}
	}
}

// Subscription receives the notices a Hub hears that match its filter, and every Resync.
type Subscription struct {
	h     *Hub
	c     chan Notice
	match func(Notice) bool
}

// Subscribe returns a subscription to the notices for which match returns true (all when match
// is nil). Close it when done.
func (h *Hub) Subscribe(match func(Notice) bool) *Subscription {
	s := &Subscription{h: h, c: make(chan Notice, 256), match: match}
	h.mu.Lock()
	h.subs[s] = struct{}{}
	h.mu.Unlock()
	return s
}

// C is the channel the notices arrive on.
func (s *Subscription) C() <-chan Notice { return s.c }

// Close ends the subscription. C is not closed.
func (s *Subscription) Close() {
	s.h.mu.Lock()
	delete(s.h.subs, s)
	s.h.mu.Unlock()
}

// ForExecution matches the notices about one execution.
func ForExecution(id int64) func(Notice) bool {
	return func(n Notice) bool { return n.ExecutionID == id }
}

// followPoll is how often FollowOutput reads the database when it hears nothing.
const followPoll = time.Second

// FollowOutput calls emit with every stored output batch of an execution after seq after, then
// with each new batch as it is stored, until the execution is terminal (or pending: core.ask
// waiting for a person's answer) and all its output has been emitted, and returns the execution
// as it ended. It wakes on the hub's notices and, as a
// fallback (or when hub is nil), every second. A worker stores an execution's output before it
// records the terminal status, so nothing printed is missed. It returns early with emit's error,
// or with ctx's when ctx ends.
func (d *DB) FollowOutput(ctx context.Context, hub *Hub, id, after int64, emit func(attune.OutputChunk) error) (attune.Execution, error) {
	var wake <-chan Notice
	if hub != nil {
		sub := hub.Subscribe(ForExecution(id))
		defer sub.Close()
		wake = sub.C()
	}
	q := d.AutoCommit()
	for {
		// The status first: output stored before a terminal status is then read below.
		x, err := q.Execution(ctx, id)
		if err != nil {
			return x, err
		}
		for {
			chunks, err := q.OutputSince(ctx, id, after, 500)
			if err != nil {
				return x, err
			}
			for _, c := range chunks {
				if err := emit(c); err != nil {
					return x, err
				}
				after = c.Seq
			}
			if len(chunks) < 500 {
				break
			}
		}
		if x.Status.Terminal() || x.Status == attune.StatusPending {
			return x, nil
		}
		select {
		case <-ctx.Done():
			return x, ctx.Err()
		case <-wake:
		case <-time.After(followPoll):
		}
	}
}
