package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/jobs"
)

// executionPauseCmd and executionResumeCmd pause and resume a workflow execution.
func (c *cli) executionPauseCmd() *cobra.Command {
	return c.workflowControlCmd("pause", "Pause a workflow: running tasks finish, nothing new starts",
		`Pause a workflow execution. The tasks it runs now finish; no new task starts until
attune execution resume. Workflows it runs as tasks pause with it. Only workflows pause: exit code 1
for any other execution, or one that has finished.`,
		func(ctx context.Context, p *jobs.Pipeline, id int64, who string) (attune.Execution, error) {
			return p.Pause(ctx, id, who)
		})
}

func (c *cli) executionResumeCmd() *cobra.Command {
	return c.workflowControlCmd("resume", "Resume a paused workflow",
		`Resume a paused workflow execution: the tasks that were ready start, and it goes on from
where it paused. Exit code 1 for an execution that is not a workflow, or has finished.`,
		func(ctx context.Context, p *jobs.Pipeline, id int64, who string) (attune.Execution, error) {
			return p.Resume(ctx, id, who)
		})
}

func (c *cli) workflowControlCmd(verb, short, long string, do func(context.Context, *jobs.Pipeline, int64, string) (attune.Execution, error)) *cobra.Command {
	return &cobra.Command{
		Use:   verb + " ID",
		Short: short,
		Long:  long,
		Args:  cobra.ExactArgs(1),
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
				x, err := do(ctx, a.p, id, who())
				if errors.Is(err, attune.ErrInvalid) || errors.Is(err, attune.ErrConflict) {
					return exitError{code: 1, msg: err.Error()}
				}
				if err != nil {
					return notFoundExit(id, err)
				}
				fmt.Fprintf(c.stdout, "execution %d %s\n", x.ID, x.Status)
				return nil
			})
		},
	}
}
