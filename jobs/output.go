package jobs

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/db"
	"github.com/attune-run/attune/params"
	"github.com/attune-run/attune/runtimes"
)

// Live output batching: while an action prints, a batch is stored every outputFlushEvery, or as
// soon as outputFlushSize bytes wait on one stream. The first batch waits for the first interval
// to pass: what is left when the action ends, all of a short action's output, is stored with
// its outcome, in the transaction that records it.
const (
	outputFlushEvery = 250 * time.Millisecond
	outputFlushSize  = 64 << 10
)

// outputRecorder stores what an action prints in attune.execution_output, each batch scrubbed of
// the execution's secrets. Each stream keeps at most limit bytes (the runtimes' output cap);
// past it the rest is counted, not stored, and the last batch of the stream says how much was
// cut. Writes never block on the database: they append to a buffer. A flusher goroutine, started
// once the action has run for outputFlushEvery (or has printed outputFlushSize bytes), stores the
// buffer in batches while the action runs; close hands what is left to the outcome's
// transaction (outputTail).
type outputRecorder struct {
	ctx   context.Context // the run's job, without its cancellation: output is stored to the end
	d     *db.DB
	log   *slog.Logger
	id    int64
	limit int
	scrub *params.Scrubber
	hold  int // bytes held back at the end of a batch, so a secret split across writes is found

	mu       sync.Mutex
	streams  [2]*outputStream
	seq      int64
	timer    *time.Timer // starts the flusher after the first interval; nil before the first write
	flushing bool        // the flusher runs
	closed   bool
	kick     chan struct{}
	done     chan struct{}
	stopped  chan struct{}
	failed   bool // a batch could not be stored; logged once
}

type outputStream struct {
	name     string
	pending  []byte // scrubbed up to the held-back tail, not yet stored
	accepted int    // bytes taken, at most limit
	dropped  int64  // bytes past limit
}

// newOutputRecorder returns a recorder for execution id. limit <= 0 means the runtimes' default.
func newOutputRecorder(ctx context.Context, d *db.DB, log *slog.Logger, id int64, limit int, sc *params.Scrubber) *outputRecorder {
	if limit <= 0 {
		limit = runtimes.DefaultOutputCap
	}
	return &outputRecorder{
		ctx: context.WithoutCancel(ctx), d: d, log: log, id: id, limit: limit, scrub: sc, hold: max(sc.Longest()-1, 0),
		streams: [2]*outputStream{{name: attune.StreamStdout}, {name: attune.StreamStderr}},
		kick:    make(chan struct{}, 1), done: make(chan struct{}), stopped: make(chan struct{}),
	}
}

// Stdout and Stderr are the writers to hand to runtimes.Request.
func (r *outputRecorder) Stdout() io.Writer { return streamWriter{r, 0} }

// Stderr is the writer for the process's stderr.
func (r *outputRecorder) Stderr() io.Writer { return streamWriter{r, 1} }

type streamWriter struct {
	r *outputRecorder
	i int
}

func (w streamWriter) Write(p []byte) (int, error) {
	w.r.write(w.i, p)
	return len(p), nil
}

func (r *outputRecorder) write(i int, p []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return
	}
	s := r.streams[i]
	take := min(r.limit-s.accepted, len(p))
	s.pending = append(s.pending, p[:take]...)
	s.accepted += take
	s.dropped += int64(len(p) - take)
	if r.timer == nil {
		r.timer = time.AfterFunc(outputFlushEvery, r.startFlushing)
	}
	if len(s.pending) >= outputFlushSize {
		r.startFlushingLocked()
		select {
		case r.kick <- struct{}{}:
		default:
		}
	}
}

// startFlushing starts the flusher unless it runs or the recorder is closed.
func (r *outputRecorder) startFlushing() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.startFlushingLocked()
}

func (r *outputRecorder) startFlushingLocked() {
	if r.flushing || r.closed {
		return
	}
	r.flushing = true
	go r.run()
}

// run flushes at once (the first interval has passed, or a batch is full), then every
// outputFlushEvery, or sooner when kicked, until close.
func (r *outputRecorder) run() {
	defer close(r.stopped)
	tick := time.NewTicker(outputFlushEvery)
	defer tick.Stop()
	for {
		r.flush()
		select {
		case <-r.done:
			return
		case <-tick.C:
		case <-r.kick:
		}
	}
}

// outputTail is the output an action printed that no batch stored while it ran: stored by
// store, in the transaction that records the execution's outcome.
type outputTail []attune.OutputChunk

// store inserts the tail in q's transaction.
func (t outputTail) store(ctx context.Context, q *db.Queries) error {
	for _, c := range t {
		if err := q.OutputInsert(ctx, c); err != nil {
			return err
		}
	}
	return nil
}

// close stops the flusher, once it has stored the batch it may be storing, and returns what is
// left, for the outcome's transaction, so that followers see all of the output once they see
// the execution terminal. Later writes are kept out of it.
func (r *outputRecorder) close() outputTail {
	r.mu.Lock()
	r.closed = true
	if r.timer != nil {
		r.timer.Stop()
	}
	flushing := r.flushing
	r.mu.Unlock()
	if flushing {
		close(r.done)
		<-r.stopped
	}
	return r.batch(true)
}

// flush stores the pending output of each stream as one batch, in a transaction of its own.
func (r *outputRecorder) flush() {
	batch := r.batch(false)
	if len(batch) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(r.ctx, 10*time.Second)
	defer cancel()
	err := r.d.InTx(ctx, func(q *db.Queries) error { return batch.store(ctx, q) })
	if err != nil && !r.failed {
		r.failed = true
		r.log.Warn("storing live output failed; the result keeps the output", "error", err)
	}
}

// batch takes the pending output of each stream, one chunk per stream that has some. Unless
// final, it holds back the last hold bytes (and an incomplete UTF-8 sequence), which the next
// write may complete; the final batch says how much of each stream was cut.
func (r *outputRecorder) batch(final bool) outputTail {
	r.mu.Lock()
	defer r.mu.Unlock()
	var batch outputTail
	for _, s := range r.streams {
		data := s.take(r.scrub, r.hold, final)
		if final && s.dropped > 0 {
			data += fmt.Sprintf("\n…[truncated %d bytes]\n", s.dropped)
		}
		if data == "" {
			continue
		}
		r.seq++
		batch = append(batch, attune.OutputChunk{ExecutionID: r.id, Seq: r.seq, Stream: s.name, Data: data})
	}
	return batch
}

// take scrubs the pending bytes and returns what may be stored now, as valid UTF-8 without
// NUL bytes (which text cannot hold), keeping the rest pending.
func (s *outputStream) take(sc *params.Scrubber, hold int, final bool) string {
	if len(s.pending) == 0 {
		return ""
	}
	buf := s.pending
	if !sc.Empty() {
		buf = []byte(sc.String(string(buf)))
	}
	cut := len(buf)
	if !final {
		cut = max(len(buf)-hold, 0)
		for cut > 0 && cut < len(buf) && !utf8.RuneStart(buf[cut]) {
			cut--
		}
		if cut == len(buf) { // an incomplete sequence at the very end waits for its rest
			cut = len(runtimes.TrimIncompleteRune(buf))
		}
	}
	out := buf[:cut]
	s.pending = append([]byte(nil), buf[cut:]...)
	return strings.ReplaceAll(strings.ToValidUTF8(string(out), "\uFFFD"), "\x00", "\uFFFD")
}
