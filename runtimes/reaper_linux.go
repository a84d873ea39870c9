package runtimes

import (
	"bytes"
	"errors"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// reaper is the worker process's bookkeeping as a child subreaper (PR_SET_CHILD_SUBREAPER): a
// process that an action started and that lost its parent (after setsid and a double fork, say)
// is reparented to the worker instead of to init. The worker then finds it by its parentage and
// its run marker when the run ends, kills it, and reaps it.
//
// Reaping must not steal the exit status of a child that os/exec waits for (the actions, the
// python probe, the embedded cluster's pg_ctl). So a zombie child is reaped only when it is one
// of these, none of which os/exec started:
//   - a member of an action's process group other than its leader (the action's own process);
//   - in another session than the worker's (it called setsid; os/exec children keep the
//     worker's session, as nothing in attune starts one with Setsid);
//   - a process the worker killed as an escapee.
type reaper struct {
	mu      sync.Mutex
	groups  map[int]bool // action process groups: true while their run goes on
	killed  map[int]bool // escaped processes killed and not yet reaped
	self    int
	session int
	// childrenPath is the main thread's list of children: /proc/self/task/<pid>/children.
	childrenPath string
	active       bool // the subreaper attribute is set and the reaping loop runs
	log          *slog.Logger
}

var (
	theReaper     = &reaper{groups: map[int]bool{}, killed: map[int]bool{}}
	theReaperOnce sync.Once
)

// startReaper makes the worker process a child subreaper, once, and starts reaping the orphans
// that come to it. Where that fails, the worker goes on as before: processes that leave their
// action's process group and parent outlive the run.
//
// It also makes the worker not dumpable (PR_SET_DUMPABLE 0): its /proc/PID/environ, mem and
// the like then belong to root, so an action running as the worker's (non-root) user cannot
// read the worker's environment (ATTUNE_SECRETS_KEY, ATTUNE_DATABASE_URL) or memory from there,
// nor ptrace it. Root's actions can anyway.
func startReaper(log *slog.Logger) *reaper {
	theReaperOnce.Do(func() {
		if err := unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0); err != nil {
			log.Warn("cannot make the worker undumpable: actions of its user may read its environment in /proc", "error", err)
		}
		r := theReaper
		r.self, r.log = os.Getpid(), log
		r.childrenPath = "/proc/self/task/" + strconv.Itoa(r.self) + "/children"
		sid, err := unix.Getsid(0)
		if err == nil {
			r.session = sid
			err = unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
		}
		if err != nil {
			log.Warn("cannot become a child subreaper: processes an action detaches (setsid) may outlive it", "error", err)
			return
		}
		r.active = true
		go r.loop()
	})
	return theReaper
}

// loop reaps orphaned zombies whenever a child changes state, and every second in case a
// SIGCHLD was merged with another.
func (r *reaper) loop() {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGCHLD)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-sig:
		case <-tick.C:
		}
		r.reapZombies()
	}
}

// trackGroup records that pgid is a running action's process group.
func (r *reaper) trackGroup(pgid int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.groups[pgid] = true
}

// endGroup records that pgid's run has ended; the group is forgotten once it is empty.
func (r *reaper) endGroup(pgid int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.groups[pgid] = false
}

// reapZombies reaps every zombie child of the worker that no os/exec.Cmd waits for (see reaper).
func (r *reaper) reapZombies() {
	if !r.active {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, pid := range r.children() {
		st, err := readStat(pid)
		if err != nil || st.state != 'Z' {
			continue
		}
		if !r.killed[pid] && !(st.pgrp != pid && r.groups[st.pgrp]) && st.session == r.session {
			continue
		}
		var ws unix.WaitStatus
		if got, err := unix.Wait4(pid, &ws, unix.WNOHANG, nil); got == pid || errors.Is(err, unix.ECHILD) {
			delete(r.killed, pid)
		}
	}
	for pid := range r.killed {
		if syscall.Kill(pid, 0) != nil {
			delete(r.killed, pid)
		}
	}
	for pgid, running := range r.groups {
		if !running && !groupAlive(pgid) {
			delete(r.groups, pgid)
		}
	}
}

// killEscaped kills every process that carries marker (a NAME=value entry of its initial
// environment) and is a child of the worker, that is, an orphan of a finished action, together
// with all of its descendants, whatever their environment; it returns how many it killed.
func (r *reaper) killEscaped(marker string) int {
	if !r.active {
		return 0
	}
	entry := []byte("\x00" + marker + "\x00")
	n := 0
	unsure := 0
	for range 10 { // an escapee may fork while it is being killed: look again
		var roots []int
		blank := false
		r.mu.Lock()
		children := r.children()
		r.mu.Unlock()
		for _, pid := range children {
			env, err := readProc("/proc/" + strconv.Itoa(pid) + "/environ")
			if err == nil && bytes.Contains(append([]byte{0}, env...), entry) {
				roots = append(roots, pid)
			}
			// A process in the middle of an exec shows an empty environment for a moment
			// (an escapee exec'ing its command after setsid, say): look at it again. One
			// that really has none (env -i) costs a few milliseconds of looking.
			if err == nil && len(env) == 0 {
				if st, err := readStat(pid); err == nil && st.state != 'Z' {
					blank = true
				}
			}
		}
		if len(roots) == 0 {
			if !blank || unsure >= 5 {
				break
			}
			unsure++
			time.Sleep(time.Millisecond)
			continue
		}
		victims := descendants(roots)
		r.mu.Lock()
		for _, pid := range victims {
			r.killed[pid] = true
		}
		r.mu.Unlock()
		for _, pid := range victims {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		n += len(victims)
		r.awaitKilled(victims)
	}
	return n
}

// awaitKilled reaps the killed processes as they die, for up to a second; what is left is
// reaped by the loop.
func (r *reaper) awaitKilled(pids []int) {
	deadline := time.Now().Add(time.Second)
	for {
		r.reapZombies()
		left := 0
		r.mu.Lock()
		for _, pid := range pids {
			if r.killed[pid] {
				left++
			}
		}
		r.mu.Unlock()
		if left == 0 || time.Now().After(deadline) {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// children returns the pids of the worker's children that the reaper may have to deal with:
// the orphans reparented to it. The kernel gives an orphan to the subreaper's first live thread
// (kernel/exit.c, find_new_reaper and find_alive_thread), which is its main thread, so only that
// thread's children list is read, one small file, however many threads the worker has. Of the
// children the worker started itself (os/exec's), which the reaper leaves alone, the actions
// running and the watchdog are left out; the others are not in the list unless the main thread
// happened to start them. r.mu is held.
func (r *reaper) children() []int {
	data, err := readProc(r.childrenPath)
	if err != nil {
		return r.childrenByScan() // a kernel without CONFIG_PROC_CHILDREN
	}
	var pids []int
	watchdog := int(theWatchdog.pid.Load())
	for f := range strings.FieldsSeq(string(data)) {
		pid, err := strconv.Atoi(f)
		if err == nil && pid != watchdog && !r.groups[pid] { // not an action's leader: os/exec waits for those
			pids = append(pids, pid)
		}
	}
	return pids
}

// childrenByScan finds the worker's children by reading every process's parent from /proc.
func (r *reaper) childrenByScan() []int {
	var pids []int
	for pid, st := range allStats() {
		if st.ppid == r.self {
			pids = append(pids, pid)
		}
	}
	return pids
}

// descendants returns roots and every process descending from them.
func descendants(roots []int) []int {
	kids := map[int][]int{}
	for pid, st := range allStats() {
		kids[st.ppid] = append(kids[st.ppid], pid)
	}
	seen := map[int]bool{}
	out := []int{}
	todo := append([]int(nil), roots...)
	for len(todo) > 0 {
		pid := todo[len(todo)-1]
		todo = todo[:len(todo)-1]
		if seen[pid] {
			continue
		}
		seen[pid] = true
		out = append(out, pid)
		todo = append(todo, kids[pid]...)
	}
	return out
}

// procReads counts the /proc files the reaper has read: its cost, which tests watch.
var procReads atomic.Int64

// readProc reads a small /proc file whole.
func readProc(path string) ([]byte, error) {
	procReads.Add(1)
	return os.ReadFile(path)
}

// procStat is what attune reads of /proc/PID/stat.
type procStat struct {
	state               byte
	ppid, pgrp, session int
}

// readStat reads /proc/PID/stat: "pid (comm) S ppid pgrp session ...", where comm may hold
// spaces and parentheses.
func readStat(pid int) (procStat, error) {
	data, err := readProc("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return procStat{}, err
	}
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return procStat{}, errors.New("malformed stat")
	}
	f := strings.Fields(string(data[i+1:]))
	if len(f) < 4 || len(f[0]) != 1 {
		return procStat{}, errors.New("malformed stat")
	}
	st := procStat{state: f[0][0]}
	if st.ppid, err = strconv.Atoi(f[1]); err == nil {
		if st.pgrp, err = strconv.Atoi(f[2]); err == nil {
			st.session, err = strconv.Atoi(f[3])
		}
	}
	return st, err
}

// allStats reads the stat of every process in /proc; processes that vanish meanwhile are left
// out.
func allStats() map[int]procStat {
	out := map[int]procStat{}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return out
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if st, err := readStat(pid); err == nil {
			out[pid] = st
		}
	}
	return out
}
