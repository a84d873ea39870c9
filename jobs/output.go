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

// Live output batching: a batch is stored at least every outputFlushEvery while the action
// prints, or as soon as outputFlushSize bytes wait on one stream.
const (
	outputFlushEvery = 250 * time.Millisecond
	outputFlushSize  = 64 << 10
)

// outputRecorder stores what an action prints in attune.execution_output while it runs, in
// batches, each scrubbed of the execution's secrets. Each stream keeps at most limit bytes (the
// runtimes' output cap); past it the rest is counted, not stored, and the last batch of the
// stream says how much was cut. Writes never block on the database: they append to a buffer
// that a goroutine, started by the first write, flushes.
type outputRecorder struct {
	ctx   context.Context // the run's job, without its cancellation: output is stored to the end
	d     *db.DB
	log   *slog.Logger
	id    int64
	limit int
	scrub *params.Scrubber
	hold  int // bytes held back at the end of a batch, so a secret split across writes is found

	mu      sync.Mutex
	streams [2]*outputStream
	seq     int64
	started bool
	kick    chan struct{}
	done    chan struct{}
	stopped chan struct{}
	failed  bool // a batch could not be stored; logged once
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
	s := r.streams[i]
	take := min(r.limit-s.accepted, len(p))
	s.pending = append(s.pending, p[:take]...)
	s.accepted += take
	s.dropped += int64(len(p) - take)
	if !r.started {
		r.started = true
		go r.run()
	}
	if len(s.pending) >= outputFlushSize {
		select {
		case r.kick <- struct{}{}:
		default:
		}
	}
}

// run flushes every outputFlushEvery, or sooner when kicked, until close.
func (r *outputRecorder) run() {
	defer close(r.stopped)
	tick := time.NewTicker(outputFlushEvery)
	defer tick.Stop()
	for {
		select {
		case <-r.done:
			r.flush(true)
			return
		case <-tick.C:
		case <-r.kick:
		}
		r.flush(false)
	}
}

// close stores what is left and returns once it is stored, so the output is complete before the
// execution's terminal status is recorded.
func (r *outputRecorder) close() {
	r.mu.Lock()
	started := r.started
	r.started = true // a late write starts nothing
	r.mu.Unlock()
	if !started {
		return
	}
	close(r.done)
	<-r.stopped
}

// flush stores the pending output of each stream as one batch. Unless final, it holds back the
// last hold bytes (and an incomplete UTF-8 sequence), which the next write may complete.
func (r *outputRecorder) flush(final bool) {
	r.mu.Lock()
	var batch []attune.OutputChunk
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
	r.mu.Unlock()
	if len(batch) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(r.ctx, 10*time.Second)
	defer cancel()
	err := r.d.InTx(ctx, func(q *db.Queries) error {
		for _, c := range batch {
			if err := q.OutputInsert(ctx, c); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil && !r.failed {
		r.failed = true
		r.log.Warn("storing live output failed; the result keeps the output", "error", err)
	}
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
