package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/db"
	"github.com/attune-run/attune/jobs"
	"github.com/attune-run/attune/params"
)

func (c *cli) inquiryCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "inquiry", Aliases: []string{"inquiries"}, Short: "List, show and answer the inquiries of core.ask"}
	var status string
	var limit int
	var asJSON bool
	list := &cobra.Command{
		Use:   "list",
		Short: "List inquiries, newest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkLimit(limit); err != nil {
				return err
			}
			if status != "" && !slices.Contains(attune.InquiryStatuses, attune.InquiryStatus(status)) {
				return exitError{code: 2, msg: fmt.Sprintf("--status %q: must be one of %v", status, attune.InquiryStatuses)}
			}
			return c.withApp(cmd.Context(), func(a *app) error {
				is, err := a.db.AutoCommit().Inquiries(cmd.Context(), db.InquiryFilter{Status: attune.InquiryStatus(status), Limit: limit})
				if err != nil {
					return err
				}
				if asJSON {
					out := make([]map[string]any, len(is))
					for i, inq := range is {
						out[i] = inquiryJSON(inq)
					}
					return writeJSON(c.stdout, out)
				}
				rows := make([][]string, len(is))
				for i, inq := range is {
					rows[i] = []string{strconv.FormatInt(inq.ID, 10), string(inq.Status), orDash(inq.Route),
						orDash(strings.Join(inq.Users, ",")), fmtTime(&inq.CreatedAt), fmtTime(inq.ExpiresAt), orDash(inq.RespondedBy)}
				}
				return table(c.stdout, []string{"ID", "STATUS", "ROUTE", "USERS", "CREATED", "EXPIRES", "RESPONDED BY"}, rows)
			})
		},
	}
	list.Flags().StringVar(&status, "status", "", "only inquiries in this status (pending, responded, expired, cancelled)")
	list.Flags().IntVar(&limit, "limit", 20, "at most this many")
	list.Flags().BoolVar(&asJSON, "json", false, "print JSON")

	var getJSON bool
	get := &cobra.Command{
		Use:   "get ID",
		Short: "Show one inquiry: its schema, who may answer, and the answer",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := inquiryID(args[0])
			if err != nil {
				return err
			}
			return c.withApp(cmd.Context(), func(a *app) error {
				inq, err := a.db.AutoCommit().Inquiry(cmd.Context(), id)
				if err != nil {
					return inquiryNotFound(id, err)
				}
				if getJSON {
					return writeJSON(c.stdout, inquiryJSON(inq))
				}
				return printInquiry(c.stdout, inq)
			})
		},
	}
	get.Flags().BoolVar(&getJSON, "json", false, "print JSON")
	cmd.AddCommand(list, get, c.inquiryRespondCmd())
	return cmd
}

func (c *cli) inquiryRespondCmd() *cobra.Command {
	var file string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "respond ID [key=value | key:=json]...",
		Short: "Answer an inquiry: its core.ask execution completes with result.response",
		Long: `Answer a pending inquiry. The answer is given as attune run takes parameters: key=value passes a
string, converted to the type the schema declares when that is unambiguous (continue=true gives
true), key:=JSON a raw JSON value, and --file FILE a JSON or YAML object (- reads stdin);
arguments override the file's keys. The answer is checked against the inquiry's schema: every
field at fault is listed, with exit code 2, and nothing changes. A valid answer completes the
core.ask execution with result {"response": {...}}; an inquiry already answered, expired or
cancelled is exit code 1, and the first answer stands.

The CLI holds the database URL, so it may answer any inquiry, whatever its users say: users limits
who may answer through the HTTP API (by API key name). The answer records cli:<OS user> as who
responded.`,
		Example: `  attune inquiry respond 42 continue=true
  attune inquiry respond 42 approve=true reason="looks good"
  attune inquiry respond 42 --file answer.yaml`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := inquiryID(args[0])
			if err != nil {
				return err
			}
			given, err := runParams(file, args[1:])
			if err != nil {
				return exitError{code: 2, msg: err.Error()}
			}
			if err := params.CheckDepth("response", given, attune.MaxNestingDepth); err != nil {
				return exitError{code: 2, msg: err.Error()}
			}
			ctx := cmd.Context()
			return c.withApp(ctx, func(a *app) error {
				cur, err := a.db.AutoCommit().Inquiry(ctx, id)
				if err != nil {
					return inquiryNotFound(id, err)
				}
				given = params.Coerce(topLevelTypes(cur.Schema), given, stringParamKeys(args[1:]))
				if err := a.build(nil); err != nil {
					return err
				}
				inq, err := a.p.Respond(ctx, id, given, jobs.Responder{Who: who()})
				if err != nil {
					return respondExit(id, err)
				}
				if asJSON {
					return writeJSON(c.stdout, inquiryJSON(inq))
				}
				fmt.Fprintf(c.stdout, "inquiry %d answered; execution %d completed\n", id, id)
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&file, "file", "", "read the answer from this JSON or YAML object (- for stdin); arguments override its keys")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the answered inquiry as JSON")
	return cmd
}

// topLevelTypes is the flat schema of a JSON Schema document's top-level properties, by type
// only, so key=value strings are converted as attune run converts them.
func topLevelTypes(schema map[string]any) attune.ParamSchema {
	out := attune.ParamSchema{}
	props, _ := schema["properties"].(map[string]any)
	for name, p := range props {
		prop, _ := p.(map[string]any)
		t, _ := prop["type"].(string)
		out[name] = attune.ParamSpec{Type: t}
	}
	return out
}

// respondExit maps an error of Respond to an exit code and a message for people.
func respondExit(id int64, err error) error {
	var fe params.FieldErrors
	switch {
	case errors.As(err, &fe):
		var b strings.Builder
		fmt.Fprintf(&b, "the answer does not match the schema of inquiry %d; nothing changed:\n", id)
		for _, e := range fe {
			fmt.Fprintf(&b, "  %s\n", e.Error())
		}
		fmt.Fprintf(&b, "`attune inquiry get %d` shows the schema", id)
		return exitError{code: 2, msg: b.String()}
	case errors.Is(err, attune.ErrConflict):
		return exitError{code: 1, msg: err.Error()}
	case errors.Is(err, attune.ErrInvalid):
		return exitError{code: 2, msg: err.Error() + "; nothing changed"}
	default:
		return inquiryNotFound(id, err)
	}
}

// inquiryID parses an inquiry id argument.
func inquiryID(arg string) (int64, error) {
	id, err := strconv.ParseInt(arg, 10, 64)
	if err != nil || id <= 0 {
		return 0, exitError{code: 2, msg: fmt.Sprintf("inquiry id %q is not a number", arg)}
	}
	return id, nil
}

// inquiryNotFound turns an unknown inquiry into exit code 1 with a hint.
func inquiryNotFound(id int64, err error) error {
	if errors.Is(err, attune.ErrNotFound) {
		return exitError{code: 1, msg: fmt.Sprintf("inquiry %d does not exist; `attune inquiry list` lists them", id)}
	}
	return err
}

func inquiryJSON(inq attune.Inquiry) map[string]any {
	users := inq.Users
	if users == nil {
		users = []string{}
	}
	return map[string]any{
		"id": inq.ID, "execution_id": inq.ID, "status": inq.Status, "schema": inq.Schema, "ttl": inq.TTLMinutes,
		"users": users, "route": inq.Route, "response": inq.Response, "responded_by": inq.RespondedBy,
		"created_at": inq.CreatedAt, "expires_at": inq.ExpiresAt, "responded_at": inq.RespondedAt,
	}
}

func printInquiry(w io.Writer, inq attune.Inquiry) error {
	ttl := "never expires"
	if inq.TTLMinutes > 0 {
		ttl = fmt.Sprintf("%d minutes", inq.TTLMinutes)
	}
	rows := [][]string{
		{"id", strconv.FormatInt(inq.ID, 10)}, {"execution", strconv.FormatInt(inq.ID, 10)},
		{"status", string(inq.Status)}, {"route", orDash(inq.Route)}, {"users", orDash(strings.Join(inq.Users, ", "))},
		{"ttl", ttl}, {"created", fmtTime(&inq.CreatedAt)}, {"expires", fmtTime(inq.ExpiresAt)},
		{"responded", fmtTime(inq.RespondedAt)}, {"responded by", orDash(inq.RespondedBy)},
	}
	for _, r := range rows {
		fmt.Fprintf(w, "%-13s %s\n", r[0]+":", r[1])
	}
	b, _ := json.MarshalIndent(inq.Schema, "  ", "  ")
	fmt.Fprintf(w, "schema:\n  %s\n", b)
	if inq.Response != nil {
		b, _ := json.MarshalIndent(inq.Response, "  ", "  ")
		fmt.Fprintf(w, "response:\n  %s\n", b)
	}
	if inq.Status == attune.InquiryPending {
		fmt.Fprintf(w, "answer with: attune inquiry respond %d key=value...\n", inq.ID)
	}
	return nil
}
