package runtimes

import (
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
)

// watchdogScript is the worker's watchdog: it reads "+ PGID" (a run started) and "- PGID" (it
// ended) lines on stdin and, at end of file, which comes when the worker has exited however it
// exited (the kernel closes the pipe's only write end), SIGKILLs every group still listed. It
// uses shell builtins only.
const watchdogScript = `groups=' '
while read -r op pgid; do
  case $op in
  +) groups="$groups$pgid " ;;
  -) case $groups in
     *" $pgid "*) groups="${groups%% $pgid *} ${groups#* $pgid }" ;;
     esac ;;
  esac
done
for pgid in $groups; do
  kill -s KILL -- "-$pgid" 2>/dev/null
done`

// watchdog is one long-lived process per worker that kills the process groups of the runs still
// going when the worker dies. Pdeathsig reaches only an action's own process, not what it
// started; the watchdog outlives the worker to kill the rest. It replaces a guard process per
// run: an action is then one process, its interpreter.
type watchdog struct {
	mu     sync.Mutex
	w      *os.File     // the write end of the watchdog's stdin; nil while none runs
	pid    atomic.Int64 // the watchdog's process id (0 before the first starts), for the reaper
	groups map[int]bool // process groups of the runs going on
	warned bool
	log    *slog.Logger
}

var theWatchdog = &watchdog{groups: map[int]bool{}}

// watch returns the worker's watchdog, logging to log.
func watch(log *slog.Logger) *watchdog {
	theWatchdog.mu.Lock()
	defer theWatchdog.mu.Unlock()
	if theWatchdog.log == nil {
		theWatchdog.log = log
	}
	return theWatchdog
}

// add records that a run's process group pgid has started.
func (d *watchdog) add(pgid int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.groups[pgid] = true
	d.send("+", pgid)
}

// remove records that the run of process group pgid has ended.
func (d *watchdog) remove(pgid int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.groups, pgid)
	d.send("-", pgid)
}

// send tells the watchdog one change, starting it (again) when none runs. d.mu is held.
func (d *watchdog) send(op string, pgid int) {
	if d.w == nil {
		d.start() // tells it every group, this one included
		return
	}
	if _, err := d.w.Write([]byte(op + " " + strconv.Itoa(pgid) + "\n")); err != nil {
		_ = d.w.Close()
		d.w = nil
		d.start()
	}
}

// start starts a watchdog and tells it every running group. d.mu is held. When it cannot be
// started, runs go on without: an action's own process still dies with the worker (Pdeathsig),
// but what it started may outlive it.
func (d *watchdog) start() {
	if err := d.startErr(); err != nil {
		if !d.warned && d.log != nil {
			d.log.Warn("cannot start the process watchdog: what an action started may outlive a crashed worker", "error", err)
		}
		d.warned = true
	}
}

func (d *watchdog) startErr() error {
	r, w, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("create pipe: %w", err)
	}
	// Nothing of the worker's environment (secrets key, database URL) is in its own; not an
	// empty one either, which the reaper would take for a process in the middle of an exec
	// (see killEscaped). Its own process group, so that a signal to the worker's group does
	// not reach it.
	cmd := &exec.Cmd{
		Path: "/bin/sh", Args: []string{"/bin/sh", "-c", watchdogScript, "attune-watchdog"},
		Env: []string{"ATTUNE_WATCHDOG=1"}, Dir: "/", Stdin: r,
		SysProcAttr: &syscall.SysProcAttr{Setpgid: true},
	}
	err = cmd.Start()
	_ = r.Close()
	if err != nil {
		_ = w.Close()
		return fmt.Errorf("start /bin/sh: %w", err)
	}
	d.w = w
	d.pid.Store(int64(cmd.Process.Pid))
	go func() {
		_ = cmd.Wait()
		d.mu.Lock()
		defer d.mu.Unlock()
		if d.w == w { // it died on its own: start another while runs go on
			_ = w.Close()
			d.w = nil
			if len(d.groups) > 0 {
				d.start()
			}
		}
	}()
	var msg []byte
	for pgid := range d.groups {
		msg = append(msg, "+ "+strconv.Itoa(pgid)+"\n"...)
	}
	if _, err := w.Write(msg); err != nil {
		return fmt.Errorf("write to the watchdog: %w", err)
	}
	return nil
}
