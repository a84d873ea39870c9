package runtimes

import "syscall"

// sysProcAttr puts the child in its own process group and has the kernel kill it when the
// thread that started it dies (see the package documentation on Pdeathsig). What the child
// started is killed then by the watchdog, which kills the whole group.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// pipeFDs returns a new pipe's read and write ends, closed on exec.
func pipeFDs() (r, w int, err error) {
	var fd [2]int
	err = syscall.Pipe2(fd[:], syscall.O_CLOEXEC)
	return fd[0], fd[1], err
}
