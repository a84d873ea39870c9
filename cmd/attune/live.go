package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/db"
	"github.com/attune-run/attune/jobs"
)

// listen starts a hub listening for execution and output notices until the returned func is
// called.
func (a *app) listen(ctx context.Context) (*db.Hub, func()) {
	hub := db.NewHub(a.db, a.log)
	hctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = hub.Run(hctx)
	}()
	return hub, func() {
		cancel()
		<-done
	}
}

// printChunk prints a stored output batch on the stream it came from.
func (c *cli) printChunk(ch attune.OutputChunk) {
	var w io.Writer = c.stdout
	if ch.Stream == attune.StreamStderr {
		w = os.Stderr
	}
	_, _ = io.WriteString(w, ch.Data)
}

// who names the person behind a CLI command, for "cancelled by": cli:<OS user>.
func who() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return "cli:" + u.Username
	}
	if name := os.Getenv("USER"); name != "" {
		return "cli:" + name
	}
	return "cli"
}

// executionID parses an execution id argument; "last" is the newest execution.
func executionID(ctx context.Context, a *app, arg string) (int64, error) {
	if arg == "last" {
		xs, err := a.db.AutoCommit().Executions(ctx, db.ExecutionFilter{Limit: 1})
		if err != nil {
			return 0, err
		}
		if len(xs) == 0 {
			return 0, exitError{code: 1, msg: "there is no execution yet"}
		}
		return xs[0].ID, nil
	}
	id, err := strconv.ParseInt(arg, 10, 64)
	if err != nil || id <= 0 {
		return 0, exitError{code: 2, msg: fmt.Sprintf("execution id %q is not a number (or last)", arg)}
	}
	return id, nil
}

// notFoundExit turns an unknown execution into exit code 1 with a hint.
func notFoundExit(id int64, err error) error {
	if errors.Is(err, attune.ErrNotFound) {
		return exitError{code: 1, msg: fmt.Sprintf("execution %d does not exist; `attune execution list` lists them", id)}
	}
	return err
}

func (c *cli) executionCancelCmd() *cobra.Command {
	var noWait bool
	cmd := &cobra.Command{
		Use:   "cancel ID",
		Short: "Cancel an execution, whichever replica runs it",
		Long: `Cancel an execution. One that has not started is cancelled at once, with its dispatch job, and
never runs. A running one becomes canceling: the replica running it sends SIGTERM to the action's
process group, then SIGKILL after runtimes.kill_grace, and records it cancelled, with who asked.
This waits for that unless --no-wait. A finished execution cannot be cancelled: exit code 1.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			return c.withApp(ctx, func(a *app) error {
				id, err := executionID(ctx, a, args[0])
				if err != nil {
					return err
				}
				if err := a.build(nil); err != nil {
					return err
				}
				x, err := a.p.Cancel(ctx, id, who())
				var fin *jobs.FinishedError
				if errors.As(err, &fin) {
					return exitError{code: 1, msg: err.Error()}
				}
				if err != nil {
					return notFoundExit(id, err)
				}
				if x.Status == attune.StatusCanceling && !noWait {
					x, err = waitTerminal(ctx, a, id, a.cfg.Runtimes.KillGrace+15*time.Second)
					if err != nil {
						return err
					}
				}
				fmt.Fprintf(c.stdout, "execution %d %s\n", x.ID, x.Status)
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&noWait, "no-wait", false, "return once the cancel is requested")
	return cmd
}

// waitTerminal polls an execution until it is terminal or within passes (then it returns it as
// it is).
func waitTerminal(ctx context.Context, a *app, id int64, within time.Duration) (attune.Execution, error) {
	deadline := time.Now().Add(within)
	for {
		x, err := a.db.AutoCommit().Execution(ctx, id)
		if err != nil || x.Status.Terminal() || time.Now().After(deadline) {
			return x, err
		}
		select {
		case <-ctx.Done():
			return x, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (c *cli) executionRerunCmd() *cobra.Command {
	var asJSON bool
	var tasks []string
	cmd := &cobra.Command{
		Use:   "rerun ID [key=value | key:=json]...",
		Short: "Run an execution's action again with its parameters, some replaced",
		Long: `Run the action of an execution again, as a new execution that records rerun_of: the old parameters
(secret ones included) with the given ones merged over them, checked as attune run checks them.
Then wait and print as attune run does.

With --tasks, a workflow that has ended is re-run from those tasks instead of its start tasks
(StackStorm's re-run from a task): each starts with the context its latest run had, the
workflow's context is the old one's, and the tasks before them do not run again.`,
		Example: `  attune execution rerun 42
  attune execution rerun last seconds=2
  attune execution rerun 42 --tasks deploy,notify`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			params, err := parseParams(args[1:])
			if err != nil {
				return exitError{code: 2, msg: err.Error()}
			}
			ctx := cmd.Context()
			return c.withApp(ctx, func(a *app) error {
				id, err := executionID(ctx, a, args[0])
				if err != nil {
					return err
				}
				old, err := a.db.AutoCommit().Execution(ctx, id)
				if err != nil {
					return notFoundExit(id, err)
				}
				action, _, err := a.db.AutoCommit().Action(ctx, old.ActionRef)
				if errors.Is(err, attune.ErrNotFound) {
					return exitError{code: 2, msg: fmt.Sprintf("action %s of execution %d is not registered any more", old.ActionRef, id)}
				}
				if err != nil {
					return err
				}
				params = coerceArgs(action, params, stringParamKeys(args[1:]))
				return c.runAndWatch(ctx, a, action, asJSON, func() (attune.Execution, error) {
					if len(tasks) > 0 {
						return rerunTasks(ctx, a, id, tasks, params)
					}
					return a.p.Rerun(ctx, id, params)
				})
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the new execution as JSON")
	cmd.Flags().StringSliceVar(&tasks, "tasks", nil, "a workflow: start from these tasks (comma-separated), with the context they had")
	return cmd
}

func (c *cli) executionTailCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "tail ID|last",
		Short: "Print an execution's output, then follow it live until it ends",
		Long: `Print what an execution's action has printed so far (stdout on stdout, stderr on stderr), then
follow it live, whichever replica runs it, until the execution ends. Exits 0 when it completed and 1
otherwise, as attune run does.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			return c.withApp(ctx, func(a *app) error {
				id, err := executionID(ctx, a, args[0])
				if err != nil {
					return err
				}
				hub, stop := a.listen(ctx)
				defer stop()
				x, err := a.db.FollowOutput(ctx, hub, id, 0, func(ch attune.OutputChunk) error {
					c.printChunk(ch)
					return nil
				})
				if ctx.Err() != nil {
					return exitError{code: 130, msg: fmt.Sprintf("interrupted; execution %d goes on", id)}
				}
				if err != nil {
					return notFoundExit(id, err)
				}
				return statusExit(x)
			})
		},
	}
}

// rerunTasks re-runs workflow id from tasks: a request that cannot be met (not a workflow, a
// task that never ran) exits 2, a workflow still running 1, each with what to do.
func rerunTasks(ctx context.Context, a *app, id int64, tasks []string, params map[string]any) (attune.Execution, error) {
	x, err := a.p.RerunTasks(ctx, id, tasks, params)
	switch {
	case errors.Is(err, attune.ErrInvalid):
		return x, exitError{code: 2, msg: strings.TrimSuffix(err.Error(), ": "+attune.ErrInvalid.Error()) + "; nothing was run"}
	case errors.Is(err, attune.ErrConflict):
		return x, exitError{code: 1, msg: strings.TrimSuffix(err.Error(), ": "+attune.ErrConflict.Error()) + "; nothing was run"}
	}
	return x, err
}
