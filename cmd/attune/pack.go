package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/packs"
)

func (c *cli) packCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "pack", Aliases: []string{"packs"}, Short: "Validate, register and list packs", RunE: groupRunE}
	cmd.AddCommand(c.packRegisterCmd(), c.packValidateCmd())
	cmd.AddCommand(c.packListCmd())
	return cmd
}

func (c *cli) packRegisterCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "register DIR...",
		Short: "Validate and register (upsert) the packs in DIR...",
		Long: `Validate the packs in DIR..., as attune pack validate does, and register them in dependency
order (a pack after the packs its pack.yaml depends on, whatever the order given): their
actions, triggers and rules are created or updated, and the ones that vanished from a pack are
removed (their timers stop). When any pack has errors, or its config does not match its
config.schema.yaml, every error of every pack is listed as file:line:col: message and nothing
is registered. A pack's config defaults are overridden by packs.config_dir/<pack>.yaml, then by
packs.config.<pack> of the attune configuration.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var all []*attune.Pack
			var problems []string
			for _, dir := range args {
				p, err := packs.LoadDirContext(cmd.Context(), dir, time.Now())
				if errors.Is(err, context.Canceled) {
					return exitError{code: 130, msg: "interrupted; nothing was registered"}
				}
				if err == nil {
					err = c.cfg.applyPackConfig(p)
				}
				if err != nil {
					problems = append(problems, fmt.Sprintf("pack %s is not valid; nothing was registered:\n%v", dir, err))
					continue
				}
				all = append(all, p)
			}
			if len(problems) > 0 {
				return exitError{code: 2, msg: strings.Join(problems, "\n")}
			}
			return c.withApp(cmd.Context(), func(a *app) error {
				if err := a.build(nil); err != nil {
					return err
				}
				for _, p := range packs.InDependencyOrder(all) {
					reg, err := a.registry.RegisterPack(cmd.Context(), p)
					if err != nil {
						return fmt.Errorf("register pack %s: %w (that pack was not changed)", p.Ref, err)
					}
					fmt.Fprintf(c.stdout, "registered pack %s %s: %s, %s, %s",
						p.Ref, p.Version, plural(len(p.Actions), "action"), plural(len(p.Triggers), "trigger"), plural(len(reg.Rules), "rule"))
					if n := len(reg.RemovedRules); n > 0 {
						fmt.Fprintf(c.stdout, ", %s removed", plural(n, "rule"))
					}
					fmt.Fprintln(c.stdout)
					missing, err := a.packVenv(cmd.Context(), p)
					if err != nil {
						fmt.Fprintf(c.stdout, "warning: pack %s: %v\n", p.Ref, err)
					} else if missing != "" {
						fmt.Fprintf(c.stdout, "warning: pack %s: requirements.txt not installed in its virtualenv (its python actions fail when they import them):\n%s", p.Ref, missing)
					}
				}
				return nil
			})
		},
	}
}

// packReport is `attune pack validate --json`.
type packReport struct {
	Dir      string          `json:"dir"`
	Pack     string          `json:"pack,omitempty"`
	Valid    bool            `json:"valid"`
	Actions  int             `json:"actions"`
	Triggers int             `json:"triggers"`
	Rules    int             `json:"rules"`
	Errors   []packProblem   `json:"errors"`
	Warnings []packProblem   `json:"warnings"`
	problems []packs.Problem // errors and warnings ("warning: …"), in file order, for people
}

// packProblem is one error or warning of a packReport.
type packProblem struct {
	File    string `json:"file"`
	Line    int    `json:"line"`
	Col     int    `json:"col"`
	Message string `json:"message"`
}

func (c *cli) packValidateCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "validate DIR",
		Short: "Check the pack in DIR without a database",
		Long: `Check the pack in DIR without touching a database, and list every problem at once, each
as file:line:col: message, in file order: YAML syntax, the shape of every file (values of
the wrong type, unknown keys, parameter schemas, formats, runner types), files that are not
regular files inside the pack or are too large, nesting, aliases and names over their limits
(see docs/packs.md "Keys, files and limits"), refs from rules to triggers and actions that do not exist (in this pack or
in the core pack built into attune), criteria that do not compile (unknown operators, bad
expressions, bad regular expressions), templates that do not compile, timer parameters, rules'
literal action parameters, and entry points that are missing.

Refs into packs other than this one and core cannot be checked without a database: each is
listed as a warning ("not checked: pack x is not loaded"); attune pack register checks them.

Exit code 0 when the pack is valid (warnings or not), 2 when it has errors.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := validatePack(cmd.Context(), args[0])
			if errors.Is(err, context.Canceled) {
				return exitError{code: 130, msg: "interrupted"}
			}
			if err != nil {
				return exitError{code: 2, msg: err.Error()}
			}
			if asJSON {
				if err := writeJSON(c.stdout, r); err != nil {
					return err
				}
			} else {
				for _, p := range r.problems {
					fmt.Fprintln(c.stdout, p.Error())
				}
			}
			if !r.Valid {
				msg := fmt.Sprintf("pack %s is not valid: %s", args[0], plural(len(r.Errors), "error"))
				if asJSON {
					msg = ""
				}
				return exitError{code: 2, msg: msg}
			}
			if !asJSON {
				fmt.Fprintf(c.stdout, "pack %s is valid: %s, %s, %s", r.Pack,
					plural(r.Actions, "action"), plural(r.Triggers, "trigger"), plural(r.Rules, "rule"))
				if n := len(r.Warnings); n > 0 {
					fmt.Fprintf(c.stdout, " (%s)", plural(n, "warning"))
				}
				fmt.Fprintln(c.stdout)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON")
	return cmd
}

// validatePack validates the pack in dir. The error is for a dir that cannot be read as a pack
// at all, or ctx's once it is done; problems in the pack are in the report.
func validatePack(ctx context.Context, dir string) (packReport, error) {
	r := packReport{Dir: dir, Errors: []packProblem{}, Warnings: []packProblem{}}
	p, warns, err := packs.ValidateDir(ctx, dir, time.Now())
	var errs packs.Errors
	if err != nil && !errors.As(err, &errs) {
		return r, err
	}
	for _, e := range errs {
		r.Errors = append(r.Errors, packProblem{e.File, e.Line, e.Col, e.Msg})
		r.problems = append(r.problems, e)
	}
	for _, w := range warns {
		r.Warnings = append(r.Warnings, packProblem{w.File, w.Line, w.Col, w.Msg})
		w.Msg = "warning: " + w.Msg
		r.problems = append(r.problems, w)
	}
	slices.SortStableFunc(r.problems, func(a, b packs.Problem) int {
		return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line), cmp.Compare(a.Col, b.Col))
	})
	if p != nil {
		r.Valid, r.Pack = true, p.Ref
		r.Actions, r.Triggers, r.Rules = len(p.Actions), len(p.Triggers), len(p.Rules)
	}
	return r, nil
}

// plural returns "1 thing" or "n things".
func plural(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return fmt.Sprintf("%d %ss", n, thing)
}
