package embedded

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"
)

// lockPollInterval is how often a blocked lock attempt retries while waiting for its ctx.
const lockPollInterval = 50 * time.Millisecond

// lockFile opens path (creating it) on a new file descriptor and takes a flock of kind how
// (syscall.LOCK_SH or syscall.LOCK_EX) on it, polling until the lock is granted or ctx is done.
// Every call opens its own descriptor, so locks conflict between goroutines of one process too.
func lockFile(ctx context.Context, path string, how int) (*os.File, error) {
	for {
		f, ok, err := tryLockFile(path, how)
		if err != nil {
			return nil, err
		}
		if ok {
			return f, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("wait for lock %s: %w", path, context.Cause(ctx))
		case <-time.After(lockPollInterval):
		}
	}
}

// tryLockFile is lockFile without waiting: ok is false when another descriptor holds a
// conflicting lock.
func tryLockFile(path string, how int) (f *os.File, ok bool, err error) {
	f, err = os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, false, fmt.Errorf("open lock file %s: %w", path, err)
	}
	for {
		err = syscall.Flock(int(f.Fd()), how|syscall.LOCK_NB)
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	switch {
	case err == nil:
		return f, true, nil
	case errors.Is(err, syscall.EWOULDBLOCK):
		_ = f.Close()
		return nil, false, nil
	default:
		_ = f.Close()
		return nil, false, fmt.Errorf("lock %s: %w", path, err)
	}
}

// unlockFile releases the flock held on f and closes it. The explicit LOCK_UN matters: a child
// forked between our fork and its exec may briefly share the descriptor, and closing alone would
// leave the lock held until it execs.
func unlockFile(f *os.File) {
	if f == nil {
		return
	}
	_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	_ = f.Close()
}
