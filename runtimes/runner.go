package runtimes

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/attune-run/attune"
)

// processRunner runs an action's entry point with an interpreter, as a child process. It serves
// the shell and python runtimes.
type processRunner struct {
	cfg     Config
	entries *entryPoints
	interp  *interpreter
	args    []string // interpreter arguments before the entry point file
}

// Run materialises the entry point, starts `<interpreter> <args> <file>` with the parameters on
// stdin or in a parameter file, and waits for it, its timeout or ctx.
func (r *processRunner) Run(ctx context.Context, req Request) (Result, error) {
	start := time.Now()
	if ctx.Err() != nil {
		return cancelled(ctx, time.Since(start)), nil
	}
	input, err := encodeParams(req.ParameterFormat, req.Parameters)
	if err == nil {
		err = checkDelivery(req)
	}
	if err != nil {
		return failure(oneLine(err.Error()), time.Since(start)), nil
	}
	prepFailed := func(err error) (Result, error) {
		err = fmt.Errorf("run action %q: %w", req.Action.Ref, err)
		return failure(oneLine(err.Error()), time.Since(start)), err
	}
	file, err := r.entries.materialise(req.Action)
	if err != nil {
		return prepFailed(err)
	}
	interp, err := r.interp.resolve(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return cancelled(ctx, time.Since(start)), nil
		}
		return prepFailed(err)
	}
	env, err := environ(req)
	if err != nil {
		return prepFailed(err)
	}
	params, err := r.deliver(req, input)
	if err != nil {
		return prepFailed(err)
	}
	defer params.cleanup()
	env = append(env, params.env...)
	argv := append(append([]string{interp}, r.args...), file)
	res, err := runChild(ctx, r.cfg, req, argv, filepath.Dir(file), env, params.stdin)
	if err != nil {
		return prepFailed(err)
	}
	res.Duration = time.Since(start)
	return res, nil
}

// runChild runs argv in dir with env and the run's marker (see reaper), stdin on its standard
// input: it starts the process, waits for it, its timeout or ctx, and returns its outcome
// (without Duration). An error is the worker's: the process could not be started.
func runChild(ctx context.Context, cfg Config, req Request, argv []string, dir string, env []string, stdin []byte, extra ...*os.File) (Result, error) {
	marker, err := runMarker()
	if err != nil {
		return Result{}, err
	}
	cmd := &exec.Cmd{Path: argv[0], Args: argv, Env: append(env, marker), Dir: dir, ExtraFiles: extra}
	log := cfg.Logger.With("execution_id", req.ExecutionID, "action", req.Action.Ref)
	c, err := startChild(cmd, stdin, cfg.OutputCap, marker, startReaper(cfg.Logger), liveOutput{req.Stdout, req.Stderr}, log)
	for _, f := range extra { // the child has its copies
		_ = f.Close()
	}
	if err != nil {
		return Result{}, err
	}
	log.Debug("action started", "pid", c.pgid, "runtime", req.Action.Runtime)
	timedOut, wasCancelled := c.wait(ctx, req.timeout(), cfg.KillGrace)
	res := outcome(ctx, req, c, timedOut, wasCancelled)
	log.Debug("action finished", "status", res.Status, "exit_code", res.ExitCode)
	return res, nil
}

// outcome builds the Result of a finished child.
func outcome(ctx context.Context, req Request, c *child, timedOut, wasCancelled bool) Result {
	res := Result{
		Stdout:          c.outCap.text(),
		Stderr:          c.errCap.text(),
		StdoutTruncated: c.outCap.truncated(),
		StderrTruncated: c.errCap.truncated(),
	}
	switch {
	case timedOut:
		res.Status, res.ExitCode = attune.StatusTimeout, -1
		res.Error = fmt.Sprintf("timed out after %s", req.timeout())
	case wasCancelled:
		res.Status, res.ExitCode, res.Error = attune.StatusCancelled, -1, cancelMessage(ctx)
	default:
		res.Status, res.ExitCode, res.Error = exitOutcome(c.cmd.ProcessState, c.waitErr, c.errCap.lastLine())
		if res.Status == attune.StatusCompleted {
			var err error
			if res.Data, err = parseOutput(req.Action.OutputFormat, res.Stdout, c.outCap.lastLine()); err != nil {
				res.Status, res.Error = attune.StatusFailed, oneLine(err.Error())
			}
		}
	}
	return res
}

// exitOutcome classifies a process that exited on its own: exit code 0 completed, anything else
// failed, with the last line of stderr as the error when there is one.
func exitOutcome(state *os.ProcessState, waitErr error, stderrLast string) (attune.ExecutionStatus, int, string) {
	if state == nil {
		return attune.StatusFailed, -1, oneLine(fmt.Sprintf("wait for process: %v", waitErr))
	}
	code := state.ExitCode()
	if code == 0 {
		return attune.StatusCompleted, 0, ""
	}
	if stderrLast != "" {
		return attune.StatusFailed, code, oneLine(stderrLast)
	}
	if ws, ok := state.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return attune.StatusFailed, code, fmt.Sprintf("killed by signal %d (%s)", int(ws.Signal()), ws.Signal())
	}
	return attune.StatusFailed, code, fmt.Sprintf("exited with code %d", code)
}

// runMarker returns ATTUNE_RUN_ID=<random>, the environment entry by which the worker finds the
// processes of one run that left its process group.
func runMarker() (string, error) {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("make run id: %w", err)
	}
	return "ATTUNE_RUN_ID=" + hex.EncodeToString(b), nil
}
