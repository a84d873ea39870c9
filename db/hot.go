package db

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/attune-run/attune/db/internal/dbsqlc"
)

// prepareHot readies the hot statements (dbsqlc.Hot) on a new connection, so that the first
// event, tick or claim on it neither parses nor plans them:
//   - each is prepared under its SQL text as name (one round trip each): pgx runs a prepared
//     statement whenever the SQL it is given is one's name;
//   - when the session's plan_cache_mode is force_generic_plan (attune's default), their generic
//     plans are made too, by one EXPLAIN EXECUTE of each sent together (one round trip; EXPLAIN
//     without ANALYZE runs nothing, and the plan it makes stays cached with the statement).
//
// A statement the server refuses is left to pgx's statement cache, which prepares it on first
// use as before: the schema is not migrated yet (Migrate readies them once it has migrated).
// TestHotStatementsPrepare keeps every listed statement preparable on a migrated database.
func prepareHot(ctx context.Context, conn *pgx.Conn) error {
	var explain strings.Builder
	for _, st := range dbsqlc.Hot {
		sd, err := conn.Prepare(ctx, st.SQL, st.SQL)
		if serverRefused(err) {
			continue
		}
		if err != nil {
			return fmt.Errorf("prepare %s: %w", st.Name, err)
		}
		explain.WriteString("EXPLAIN EXECUTE " + sd.Name + nullArgs(len(sd.ParamOIDs)) + ";\n")
	}
	if explain.Len() == 0 || conn.Config().RuntimeParams["plan_cache_mode"] != "force_generic_plan" {
		return nil
	}
	if _, err := conn.PgConn().Exec(ctx, explain.String()).ReadAll(); err != nil && !serverRefused(err) {
		return fmt.Errorf("plan the hot statements: %w", err)
	}
	return nil
}

// serverRefused reports whether err is the server's answer to a statement (as opposed to a
// connection that failed).
func serverRefused(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr)
}

// nullArgs is the argument list of an EXECUTE of a statement with n parameters, all NULL: a
// generic plan does not depend on them.
func nullArgs(n int) string {
	if n == 0 {
		return ""
	}
	return "(" + strings.Repeat("NULL, ", n-1) + "NULL)"
}
