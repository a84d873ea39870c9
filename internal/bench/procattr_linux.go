package bench

import "syscall"

// childAttr has the kernel stop a worker replica when the bench dies, so an interrupted bench
// leaves no replica behind.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}
