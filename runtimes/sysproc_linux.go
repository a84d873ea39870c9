package runtimes

import "syscall"

// sysProcAttr puts the child in its own process group and has the kernel signal it when the
// thread that started it dies (see the package documentation on Pdeathsig). The child is the
// guard (see guardScript), which turns that signal into a SIGKILL of the whole group.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGUSR1}
}

// guardScript leads an action's process group. Pdeathsig reaches only the direct child of the
// worker, so without a guard a grandchild (the sleep in a shell script, say) would outlive a
// worker killed with SIGKILL. The guard runs the action as its child, waits for it and exits with
// its status (or dies of its signal); when the worker dies, the kernel sends the guard SIGUSR1
// and the guard kills the whole group. Timeouts and cancellation still signal the group: the
// guard ignores TERM (with a handler, so the action does not inherit an ignored TERM) and
// waits for the action to decide. The action's stdin is passed through fd 3, because an
// asynchronous command's stdin is otherwise /dev/null.
//
// The action runs asynchronously because a trap does not run while the shell waits for a
// foreground command, and `wait` is interrupted by one.
const guardScript = guardHead + `"$@" <&3 3<&- &` + guardTail

// sourcingGuardScript is guardScript for a shell script, named by $0: the guard's own
// asynchronous subshell sources it with `.` instead of exec'ing a second shell, so a shell
// action costs a fork, not a fork and an exec. The subshell starts with the traps reset and
// without the guard's variables, and $0 is the script's path, as when a shell runs the file.
// Unlike a separate shell, $$ and $PPID are the guard's (POSIX: a subshell keeps them).
const sourcingGuardScript = guardHead + `. "$0" <&3 3<&- &` + guardTail

const guardHead = `trap 'kill -KILL 0' USR1
trap ':' TERM INT HUP
exec 3<&0
`

const guardTail = `
pid=$!
exec 3<&- 0</dev/null
while :; do
  wait "$pid" 2>/dev/null; st=$?
  kill -0 "$pid" 2>/dev/null || break
done
if [ "$st" -gt 128 ]; then
  trap - TERM INT HUP
  kill -s "$(kill -l "$st")" $$
fi
exit "$st"`

// guarded returns the command line that runs argv under the guard.
func guarded(argv []string) []string {
	return append([]string{"/bin/sh", "-c", guardScript, "attune-guard"}, argv...)
}

// guardedScript returns the command line that runs the shell script file with the POSIX shell
// at path shell, which is also its guard (see sourcingGuardScript).
func guardedScript(shell, file string) []string {
	return []string{shell, "-c", sourcingGuardScript, file}
}
