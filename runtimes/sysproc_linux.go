package runtimes

import "syscall"

// sysProcAttr puts the child in its own process group and has the kernel kill it when the
// thread that started it dies (see the package documentation on Pdeathsig). What the child
// started is killed then by the watchdog, which kills the whole group.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
