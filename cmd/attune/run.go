package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"time"

	"github.com/spf13/cobra"

	"github.com/attune-run/attune"
)

func (c *cli) runCmd() *cobra.Command {
	var timeout time.Duration
	var asJSON bool
	var paramsFile string
	cmd := &cobra.Command{
		Use:   "run REF [key=value | key:=json]...",
		Short: "Run an action once, wait for it and print its result",
		Long: `Run an action once and wait for it. As in httpie, key=value passes a string and key:=JSON passes a
raw JSON value (key:=5, key:=true, key:='["a","b"]'). A key=value string is converted to the type
the action declares when that is unambiguous (seconds=5 gives the integer 5, dry_run=true a
boolean); key:=JSON is passed as written. The parameters are checked against the action's schema
before anything runs: defaults are applied, and every missing, mistyped, out-of-range or unknown
parameter is listed, with exit code 2. Exits 0 when the execution completed and 1 otherwise.
When no worker replica is running, attune run works the execution itself.

Values can come from files, so that large values and secrets stay out of the command line (and
out of ps): key=@FILE passes the file's text as a string (one trailing newline dropped),
key:=@FILE the JSON in it, and --params-file FILE a JSON or YAML object of parameters (- reads
stdin: key=@- or --params-file -, once). A value that starts with @ literally is written @@
(handle=@@bob passes "@bob"). Each key may be given once; arguments override --params-file.`,
		Example: `  attune run core.echo message=hi
  attune run --timeout 1s core.sleep seconds:=5
  attune run mypack.login user=bob password=@./password.txt
  echo '{"message": "hi"}' | attune run core.echo --params-file -`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if timeout < 0 {
				return exitError{code: 2, msg: fmt.Sprintf("--timeout %s: must not be negative (0, the default, keeps the action's own timeout)", timeout)}
			}
			params, err := runParams(paramsFile, args[1:])
			if err != nil {
				return exitError{code: 2, msg: err.Error()}
			}
			return c.run(cmd.Context(), args[0], params, stringParamKeys(args[1:]), timeout, asJSON)
		},
	}
	cmd.Flags().StringVar(&paramsFile, "params-file", "", "read parameters from this JSON or YAML object (- for stdin); arguments override its keys")
	cmd.Flags().DurationVar(&timeout, "timeout", 0, "override the action's timeout (e.g. 30s)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the execution as JSON")
	return cmd
}

// runParams reads the parameters of attune run: --params-file, overridden by the arguments.
func runParams(paramsFile string, args []string) (map[string]any, error) {
	stdin := false
	params := map[string]any{}
	if paramsFile != "" {
		var err error
		if params, err = readParamsFile(paramsFile, &stdin); err != nil {
			return nil, err
		}
	}
	given, err := parseParamsStdin(args, &stdin)
	if err != nil {
		return nil, err
	}
	maps.Copy(params, given)
	return params, nil
}

func (c *cli) run(ctx context.Context, ref string, params map[string]any, stringKeys []string, timeout time.Duration, asJSON bool) error {
	a, err := c.open(ctx)
	if err != nil {
		return err
	}
	defer a.close()
	action, _, err := a.db.AutoCommit().Action(ctx, ref)
	if errors.Is(err, attune.ErrNotFound) {
		return exitError{code: 2, msg: fmt.Sprintf("action %s is not registered; `attune pack register DIR` registers a pack", ref)}
	}
	if err != nil {
		return err
	}
	params = coerceArgs(action, params, stringKeys)
	if err := checkParamsDepth(params); err != nil {
		return exitError{code: 2, msg: err.Error()}
	}
	return c.runAndWatch(ctx, a, action, asJSON, func() (attune.Execution, error) {
		return a.p.Run(ctx, ref, params, timeout)
	})
}

// runAndWatch schedules an execution with schedule (attune run, attune execution rerun), prints
// the action's output as it is stored, and exits as run does. When no worker replica is alive,
// this process works the execution itself for the command's duration.
func (c *cli) runAndWatch(ctx context.Context, a *app, action attune.Action, asJSON bool, schedule func() (attune.Execution, error)) error {
	live, err := a.liveReplica(ctx, RoleWorkers)
	if err != nil {
		return err
	}
	var roles []string
	if !live {
		roles = []string{RoleWorkers, RoleRules} // no replica runs actions: work this one here
	}
	hub, stopListening := a.listen(ctx)
	defer stopListening()
	if err := a.buildListening(roles, hub); err != nil {
		return err
	}
	if !live {
		if err := a.engine.Start(ctx); err != nil {
			return err
		}
		defer a.stopEngine()
	}
	x, err := schedule()
	if perr := paramsExit(action, err); perr != nil {
		return perr
	}
	if errors.Is(err, attune.ErrNotFound) {
		return exitError{code: 2, msg: fmt.Sprintf("action %s is not registered; `attune pack register DIR` registers a pack", action.Ref)}
	}
	if err != nil {
		return err
	}
	var streamed bool
	x, err = a.db.FollowOutput(ctx, hub, x.ID, 0, func(ch attune.OutputChunk) error {
		if !asJSON {
			streamed = true
			c.printChunk(ch)
		}
		return nil
	})
	if ctx.Err() != nil {
		return exitError{code: 130, msg: fmt.Sprintf("interrupted; execution %d goes on (attune execution tail %d)", x.ID, x.ID)}
	}
	if err != nil {
		return err
	}
	switch {
	case asJSON:
		if err := writeJSON(c.stdout, executionJSON(x)); err != nil {
			return err
		}
	case x.Status == attune.StatusPending:
		fmt.Fprintf(c.stdout, "execution %d is pending: it waits for an answer to inquiry %d (attune inquiry get %d; attune inquiry respond %d key=value...)\n", x.ID, x.ID, x.ID, x.ID)
	case !streamed:
		printResult(c.stdout, x) // an in-process action: its result is all there is to show
	}
	return statusExit(x)
}

// statusExit is the exit of run and tail: nil when the execution completed or is pending (core.ask
// waiting for its answer), exit code 1 with its status and error otherwise.
func statusExit(x attune.Execution) error {
	if x.Status != attune.StatusCompleted && x.Status != attune.StatusPending {
		return exitError{code: 1, msg: fmt.Sprintf("execution %d %s: %s", x.ID, x.Status, x.Error)}
	}
	return nil
}
