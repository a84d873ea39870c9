package runtimes

import "syscall"

// sysProcAttr puts the child in its own process group and has the kernel SIGKILL it when the
// thread that started it dies (see the package documentation on Pdeathsig).
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
