package main

import (
	"errors"
	"fmt"
	"regexp"

	"github.com/spf13/cobra"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/httpapi"
)

// keyNamePattern is what an API key's name may hold.
var keyNamePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$`)

func (c *cli) apikeyCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "apikey", Aliases: []string{"apikeys"}, Short: "Create, list and revoke API keys of the HTTP API"}
	create := &cobra.Command{
		Use:   "create NAME",
		Short: "Create an API key and print it, once: only its hash is stored",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			if !keyNamePattern.MatchString(name) {
				return exitError{code: 2, msg: fmt.Sprintf("key name %q: letters, digits, _ . and -, at most 63, starting with a letter or digit", name)}
			}
			return c.withApp(cmd.Context(), func(a *app) error {
				key, hash := httpapi.NewKey()
				_, err := a.db.AutoCommit().APIKeyInsert(cmd.Context(), name, hash)
				if errors.Is(err, attune.ErrConflict) {
					return exitError{code: 1, msg: fmt.Sprintf("a key named %s exists; `attune apikey revoke %s` first, or pick another name", name, name)}
				}
				if err != nil {
					return err
				}
				fmt.Fprintln(c.stdout, key)
				c.note("this is the only time the key is shown; send it as Authorization: Bearer KEY")
				return nil
			})
		},
	}
	var asJSON bool
	list := &cobra.Command{
		Use:   "list",
		Short: "List the live API keys: name, creation and last use (never the key)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return c.withApp(cmd.Context(), func(a *app) error {
				keys, err := a.db.AutoCommit().APIKeys(cmd.Context())
				if err != nil {
					return err
				}
				if asJSON {
					out := make([]map[string]any, len(keys))
					for i, k := range keys {
						out[i] = map[string]any{"name": k.Name, "created_at": k.CreatedAt, "last_used_at": k.LastUsedAt}
					}
					return writeJSON(c.stdout, out)
				}
				rows := make([][]string, len(keys))
				for i, k := range keys {
					created := k.CreatedAt
					rows[i] = []string{k.Name, fmtTime(&created), fmtTime(k.LastUsedAt)}
				}
				return table(c.stdout, []string{"NAME", "CREATED", "LAST USED"}, rows)
			})
		},
	}
	list.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	revoke := &cobra.Command{
		Use:   "revoke NAME",
		Short: "Revoke an API key: every replica refuses it from the next request",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.withApp(cmd.Context(), func(a *app) error {
				err := a.db.AutoCommit().APIKeyRevoke(cmd.Context(), args[0])
				if errors.Is(err, attune.ErrNotFound) {
					return exitError{code: 1, msg: fmt.Sprintf("no live key named %s; `attune apikey list` shows them", args[0])}
				}
				if err != nil {
					return err
				}
				fmt.Fprintf(c.stdout, "api key %s revoked\n", args[0])
				return nil
			})
		},
	}
	cmd.AddCommand(create, list, revoke)
	return cmd
}
