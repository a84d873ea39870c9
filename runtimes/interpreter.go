package runtimes

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// probeTimeout bounds asking an interpreter where it lives.
const probeTimeout = 30 * time.Second

// interpreter resolves an interpreter name to an absolute path once and caches it. A failed
// resolution is not cached, so installing the interpreter later needs no worker restart.
type interpreter struct {
	name string
	// probe, if set, maps the path found on PATH to the interpreter's real path.
	probe func(ctx context.Context, path string) (string, error)

	mu   sync.Mutex
	path string
}

// resolve returns the interpreter's absolute path.
func (i *interpreter) resolve(ctx context.Context) (string, error) {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.path != "" {
		return i.path, nil
	}
	path, err := exec.LookPath(i.name)
	if err != nil {
		return "", fmt.Errorf("find interpreter %q (install it or set its path in the worker config): %w", i.name, err)
	}
	if path, err = filepath.Abs(path); err != nil {
		return "", fmt.Errorf("find interpreter %q: %w", i.name, err)
	}
	if i.probe != nil {
		if path, err = i.probe(ctx, path); err != nil {
			return "", fmt.Errorf("probe interpreter %q: %w", i.name, err)
		}
	}
	i.path = path
	return path, nil
}

// pythonProbe asks the python at path for sys.executable. That sees through wrappers such as
// pyenv shims, which cost a shell and a pyenv process on every run, while keeping a virtualenv's
// python (a symlink whose location, not target, selects the environment) as it is. When python
// cannot tell, path is kept.
func pythonProbe(ctx context.Context, path string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, path, "-c", "import sys; print(sys.executable or '')")
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if line := lastNonEmptyLine(stderr.Bytes(), true); line != "" {
			err = fmt.Errorf("%w: %s", err, line)
		}
		return "", fmt.Errorf("run %s: %w", path, err)
	}
	exe := strings.TrimSpace(stdout.String())
	if !filepath.IsAbs(exe) {
		return path, nil
	}
	if _, err := os.Stat(exe); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return path, nil
		}
		return "", fmt.Errorf("stat %s: %w", exe, err)
	}
	return exe, nil
}
