// Command withpg runs a command against one throwaway PostgreSQL cluster:
//
//	go run ./internal/pgtest/withpg -- go test ./...
//
// It starts the cluster in a temporary directory from the PostgreSQL server binaries installed
// on the machine, exports its admin URL as ATTUNE_TEST_DATABASE_URL (so every test binary that
// calls pgtest.Main shares it), runs the command with stdio passed through, then stops the
// cluster and removes the directory, also when it gets SIGINT or SIGTERM. It exits with the
// command's exit code.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"time"

	"github.com/attune-run/attune/internal/pgtest"
)

const stopTimeout = 2 * time.Minute

func main() {
	os.Exit(run(os.Args[1:]))
}

// run starts the cluster, runs args and returns the exit code to leave with.
func run(args []string) int {
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "usage: withpg [--] command [args...]")
		return 2
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))

	// Signals that arrive before the command runs cancel the start; later ones go to the command.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-sigs:
			cancel()
		case <-ctx.Done():
		}
	}()

	srv, err := pgtest.StartServer(ctx, logger)
	if err != nil {
		fmt.Fprintf(os.Stderr, "withpg: %v\n", err)
		return 1
	}
	defer func() {
		stopCtx, stopCancel := context.WithTimeout(context.Background(), stopTimeout)
		defer stopCancel()
		if err := srv.Stop(stopCtx); err != nil {
			fmt.Fprintf(os.Stderr, "withpg: %v\n", err)
		}
	}()
	if ctx.Err() != nil {
		return 130
	}
	cancel() // hand signals over to the command
	logger.Info("running command against test cluster", "env", pgtest.EnvURL+"="+srv.URL())

	return runCommand(args, srv.URL(), sigs)
}

// runCommand runs args with ATTUNE_TEST_DATABASE_URL set to url, forwarding signals from sigs,
// and returns its exit code (128+signal when a signal killed it).
func runCommand(args []string, url string, sigs <-chan os.Signal) int {
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), pgtest.EnvURL+"="+url)
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(os.Stderr, "withpg: %v\n", err)
		return 127
	}
	done := make(chan struct{})
	defer close(done)
	go func() {
		for {
			select {
			case sig := <-sigs:
				_ = cmd.Process.Signal(sig)
			case <-done:
				return
			}
		}
	}()

	err := cmd.Wait()
	var exitErr *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &exitErr):
		if ws, ok := exitErr.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal())
		}
		return exitErr.ExitCode()
	default:
		fmt.Fprintf(os.Stderr, "withpg: %v\n", err)
		return 1
	}
}
