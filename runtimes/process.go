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

	stdin          *os.File // parent's write end
	stdinDone      chan struct{}
	stdout, stderr *os.File // parent's read ends
	outCap, errCap *capture
	readers        sync.WaitGroup
}

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
	var parentEnds, childEnds []*os.File
	closeAll := func(files []*os.File) {
		for _, f := range files {
			_ = f.Close()
		}
	}
	for i := range 3 {
		r, w, err := os.Pipe()
		if err != nil {
			closeAll(parentEnds)
			closeAll(childEnds)
			return nil, fmt.Errorf("create pipe: %w", err)
		}
		if i == 0 { // stdin: the child reads
			parentEnds, childEnds = append(parentEnds, w), append(childEnds, r)
		} else {
			parentEnds, childEnds = append(parentEnds, r), append(childEnds, w)
		}
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = childEnds[0], childEnds[1], childEnds[2]
	cmd.SysProcAttr = sysProcAttr()

	c := &child{
		cmd: cmd, log: log, reaper: rp, watchdog: watch(log), marker: marker,
		exited:    make(chan error, 1),
		stdin:     parentEnds[0],
		stdinDone: make(chan struct{}),
		stdout:    parentEnds[1],
		stderr:    parentEnds[2],
		outCap:    newCapture(limit),
		errCap:    newCapture(limit),
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
	err := <-started
	closeAll(childEnds) // the child has its copies
	if err != nil {
		closeAll(parentEnds)
		return nil, fmt.Errorf("start %s: %w", cmd.Path, err)
	}
	c.pgid = cmd.Process.Pid // Setpgid with Pgid 0: the child leads a group named after it
	rp.trackGroup(c.pgid)

	go func() {
		defer close(c.stdinDone)
		// EPIPE just means the action did not read its parameters.
		_, _ = c.stdin.Write(input)
		_ = c.stdin.Close()
	}()
	c.readers.Add(2)
	go c.drain(tee(c.outCap, live.stdout), c.stdout)
	go c.drain(tee(c.errCap, live.stderr), c.stderr)
	return c, nil
}

// drain copies r into w until r is at EOF or closed.
func (c *child) drain(w io.Writer, r io.Reader) {
	defer c.readers.Done()
	_, _ = io.Copy(w, r)
}

// wait waits for the process to exit, for timeout to pass or for ctx to be done, whichever comes
// first, then makes sure no process of the group is left and the pipes are drained and closed.
func (c *child) wait(ctx context.Context, timeout, grace time.Duration) (timedOut, cancelled bool) {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case err := <-c.exited:
		c.reap(err)
		c.reaper.reapZombies() // members that died after the leader are zombies of the worker's
		if groupAlive(c.pgid) {
			c.log.Debug("terminating processes the action left behind", "pgid", c.pgid)
			c.terminate(grace)
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
	drained := make(chan struct{})
	go func() {
		c.readers.Wait()
		close(drained)
	}()
	select {
	case <-drained:
	case <-time.After(drainTimeout):
		c.log.Warn("output pipes still open after the action's process group ended; closing them",
			"pgid", c.pgid)
		_ = c.stdout.Close()
		_ = c.stderr.Close()
		<-drained
	}
	_ = c.stdout.Close()
	_ = c.stderr.Close()
	_ = c.stdin.Close() // unblocks the writer if nobody reads stdin
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
