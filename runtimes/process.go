package runtimes

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

const (
	// pollInterval is how often a terminating process group is checked for survivors.
	pollInterval = 20 * time.Millisecond
	// drainTimeout bounds waiting for the output pipes to close once the process group is gone;
	// only a process that left the group (setsid) can keep them open longer.
	drainTimeout = 2 * time.Second
)

// child is one started action process and the goroutines feeding and draining its pipes.
type child struct {
	cmd  *exec.Cmd
	pgid int
	log  *slog.Logger

	reaper   *reaper
	watchdog *watchdog
	marker   string // the NAME=value environment entry that marks this run's processes

	exited  chan error // receives cmd.Wait's result, once
	reaped  bool       // exited has been received from
	waitErr error      // cmd.Wait's result, once reaped

	stdin          *os.File      // parent's write end; nil when the input was written before the start
	stdinDone      chan struct{} // closed once the input is written (or refused) and stdin closed
	stdout, stderr *os.File      // parent's read ends
	outCap, errCap *capture
	draining       atomic.Int32  // output pipes not at EOF yet
	drained        chan struct{} // closed when both are
}

// stdinInline is how much input is written to the stdin pipe before the process starts, with
// no goroutine to feed it: a write of at most PIPE_BUF bytes to an empty pipe never blocks,
// whatever the pipe's capacity (at least a page).
const stdinInline = 4096

// startChild starts cmd in its own process group with stdin, stdout and stderr connected to
// pipes, writes input to stdin and closes it, and drains stdout and stderr into captures keeping
// limit bytes each, copying them to live's writers as well when set.
//
// The goroutine that starts the process stays locked to its OS thread until the process has
// been waited for, because Pdeathsig fires when that thread, not the worker, exits. The group is
// told to the watchdog, which kills it if the worker dies before the run ends.
//
// marker is an entry of cmd.Env found only in this run's processes: when the run ends, the
// processes carrying it that escaped the process group are killed (see reaper).
func startChild(cmd *exec.Cmd, input []byte, limit int, marker string, rp *reaper, live liveOutput, log *slog.Logger) (*child, error) {
	p, err := newPipes(input)
	if err != nil {
		return nil, err
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = p.child[0], p.child[1], p.child[2]
	cmd.SysProcAttr = sysProcAttr()

	c := &child{
		cmd: cmd, log: log, reaper: rp, watchdog: watch(log), marker: marker,
		exited:    make(chan error, 1),
		stdin:     p.parent[0],
		stdinDone: make(chan struct{}),
		stdout:    p.parent[1],
		stderr:    p.parent[2],
		outCap:    newCapture(limit),
		errCap:    newCapture(limit),
		drained:   make(chan struct{}),
	}
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		c.watchdog.add(cmd.Process.Pid) // at once: the action may start children any time now
		started <- nil
		c.exited <- cmd.Wait()
	}()
	err = <-started
	closeFiles(p.child[:]) // the child has its copies
	if err != nil {
		closeFiles(p.parent[:])
		return nil, fmt.Errorf("start %s: %w", cmd.Path, err)
	}
	c.pgid = cmd.Process.Pid // Setpgid with Pgid 0: the child leads a group named after it
	rp.trackGroup(c.pgid)

	if c.stdin == nil {
		close(c.stdinDone)
	} else {
		go func() {
			defer close(c.stdinDone)
			// EPIPE just means the action did not read its parameters.
			_, _ = c.stdin.Write(input)
			_ = c.stdin.Close()
		}()
	}
	c.draining.Store(2)
	go c.drain(tee(c.outCap, live.stdout), c.stdout)
	go c.drain(tee(c.errCap, live.stderr), c.stderr)
	return c, nil
}

// pipes are a child's stdin, stdout and stderr: the ends the child gets and the parent's.
type pipes struct {
	child, parent [3]*os.File
}

// newPipes makes the three pipes of a child. The child's ends are plain blocking descriptors,
// which the runtime's poller never sees. The parent's output ends are non-blocking, so that
// their readers park in the poller and closing them stops a read. input, when short
// (stdinInline), is written now and the parent's stdin end closed: parent[0] is then nil.
func newPipes(input []byte) (p pipes, err error) {
	defer func() {
		if err != nil {
			closeFiles(p.child[:])
			closeFiles(p.parent[:])
		}
	}()
	for i := range 3 {
		r, w, err := pipeFDs()
		if err != nil {
			return p, fmt.Errorf("create pipe: %w", err)
		}
		childEnd, parentEnd := w, r
		if i == 0 { // stdin: the child reads
			childEnd, parentEnd = r, w
		}
		p.child[i] = os.NewFile(uintptr(childEnd), "|child")
		if i == 0 && len(input) <= stdinInline {
			var n int
			if len(input) > 0 {
				n, err = syscall.Write(parentEnd, input)
			}
			_ = syscall.Close(parentEnd)
			if err != nil || n != len(input) {
				return p, fmt.Errorf("write stdin: %d of %d bytes written: %v", n, len(input), err)
			}
			continue
		}
		if err := syscall.SetNonblock(parentEnd, true); err != nil {
			_ = syscall.Close(parentEnd)
			return p, fmt.Errorf("create pipe: %w", err)
		}
		p.parent[i] = os.NewFile(uintptr(parentEnd), "|parent")
	}
	return p, nil
}

// closeFiles closes each file that is not nil.
func closeFiles(files []*os.File) {
	for _, f := range files {
		if f != nil {
			_ = f.Close()
		}
	}
}

// drainBuffers are the read buffers of drain: io.Copy from an *os.File would allocate 32 KiB
// per stream and run, most of a short run's garbage.
var drainBuffers = sync.Pool{New: func() any { return new([16 << 10]byte) }}

// drain copies r into w until r is at EOF or closed.
func (c *child) drain(w io.Writer, r io.Reader) {
	buf := drainBuffers.Get().(*[16 << 10]byte)
	defer func() {
		drainBuffers.Put(buf)
		if c.draining.Add(-1) == 0 {
			close(c.drained)
		}
	}()
	for {
		n, err := r.Read(buf[:])
		if n > 0 {
			_, _ = w.Write(buf[:n]) // captures and live output never fail
		}
		if err != nil {
			return
		}
	}
}

// wait waits for the process to exit, for timeout to pass or for ctx to be done, whichever comes
// first, then makes sure no process of the group is left and the pipes are drained and closed.
func (c *child) wait(ctx context.Context, timeout, grace time.Duration) (timedOut, cancelled bool) {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case err := <-c.exited:
		c.reap(err)
		// Members that died after the leader are zombies of the worker's, and a zombie keeps
		// the group alive: reap them before asking again. A one-process action's group is gone
		// with its leader.
		if groupAlive(c.pgid) {
			c.reaper.reapZombies()
			if groupAlive(c.pgid) {
				c.log.Debug("terminating processes the action left behind", "pgid", c.pgid)
				c.terminate(grace)
			}
		}
	case <-timer.C:
		timedOut = true
		c.log.Debug("action timed out; terminating its process group", "pgid", c.pgid, "timeout", timeout)
		c.terminate(grace)
	case <-ctx.Done():
		cancelled = true
		c.log.Debug("action cancelled; terminating its process group", "pgid", c.pgid)
		c.terminate(grace)
	}
	if n := c.reaper.killEscaped(c.marker); n > 0 {
		c.log.Warn("killed processes the action had detached from its process group", "count", n)
	}
	c.finishIO()
	c.reaper.endGroup(c.pgid)
	c.watchdog.remove(c.pgid)
	return timedOut, cancelled
}

// reap records the result of cmd.Wait.
func (c *child) reap(err error) {
	c.reaped, c.waitErr = true, err
}

// terminate sends SIGTERM to the process group and, if any of it is still there after grace,
// SIGKILL. It returns once the leader has been reaped and either the group is empty or SIGKILL
// has been sent.
func (c *child) terminate(grace time.Duration) {
	signalGroup(c.pgid, syscall.SIGTERM)
	deadline := time.NewTimer(grace)
	defer deadline.Stop()
	poll := time.NewTicker(pollInterval)
	defer poll.Stop()
	for {
		// Group members whose parent died are the worker's to reap (it is their subreaper):
		// until they are, a zombie keeps the group alive.
		c.reaper.reapZombies()
		if c.reaped && !groupAlive(c.pgid) {
			return
		}
		exited := c.exited
		if c.reaped {
			exited = nil // never ready
		}
		select {
		case err := <-exited:
			c.reap(err)
		case <-poll.C:
		case <-deadline.C:
			c.log.Warn("process group outlived SIGTERM; sending SIGKILL", "pgid", c.pgid, "grace", grace)
			signalGroup(c.pgid, syscall.SIGKILL)
			if !c.reaped {
				_ = syscall.Kill(c.pgid, syscall.SIGKILL) // the leader, even if it left its group
				c.reap(<-c.exited)
			}
			return
		}
	}
}

// finishIO waits for stdout and stderr to reach EOF, which they do once every process holding
// them has exited, then closes the parent's pipe ends. A process that escaped the group may hold
// them open; after drainTimeout they are closed anyway and its output is lost.
func (c *child) finishIO() {
	timer := time.NewTimer(drainTimeout)
	defer timer.Stop()
	select {
	case <-c.drained:
	case <-timer.C:
		c.log.Warn("output pipes still open after the action's process group ended; closing them",
			"pgid", c.pgid)
		_ = c.stdout.Close()
		_ = c.stderr.Close()
		<-c.drained
	}
	_ = c.stdout.Close()
	_ = c.stderr.Close()
	if c.stdin != nil {
		_ = c.stdin.Close() // unblocks the writer if nobody reads stdin
	}
	<-c.stdinDone
}

// groupAlive reports whether any process (including a zombie) is in process group pgid.
func groupAlive(pgid int) bool {
	err := syscall.Kill(-pgid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// signalGroup sends sig to every process in group pgid; a group already gone is not an error.
func signalGroup(pgid int, sig syscall.Signal) {
	_ = syscall.Kill(-pgid, sig)
}
