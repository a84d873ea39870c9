package jobs_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/attune-run/attune"
)

// An item's end stores the with-items task's progress alone: the item list and the context
// (which grow with the list, and are TOASTed past a few kB) are written when the task starts and
// when it ends, not once per item. Rewriting them at each item's end, under the workflow's row
// lock, made 1,000 items at concurrency 50 take 9-19 s instead of 4-8 s in attune bench.
func TestWorkflowWithItemsProgressLeavesItemsAlone(t *testing.T) {
	t.Parallel()
	e := wfEnv(t, map[string]string{"items": `
version: 1.0
input:
  - xs
output:
  - n: <% len(ctx().outs) %>
tasks:
  each:
    with:
      items: <% ctx().xs %>
      concurrency: 3
    action: core.noop
    next:
      - when: <% succeeded() %>
        publish: outs=<% result() %>
`})
	ctx := context.Background()
	// Counts the statements that name items or context in their SET list, whatever the values
	// (a column trigger fires on the SET list, not on a change).
	_, err := e.DB.Pool.Exec(ctx, `
		CREATE TABLE public.items_writes (workflow_id bigint NOT NULL);
		CREATE FUNCTION public.count_items_write() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN INSERT INTO public.items_writes VALUES (NEW.workflow_id); RETURN NEW; END $$;
		CREATE TRIGGER count_items_write AFTER UPDATE OF items, context ON attune.workflow_task
		FOR EACH ROW EXECUTE FUNCTION public.count_items_write();`)
	require.NoError(t, err)

	xs := make([]any, 20)
	for i := range xs {
		xs[i] = i
	}
	x, res := runWorkflow(t, e, "items", map[string]any{"xs": xs})
	require.Equal(t, attune.StatusCompleted, x.Status, "%s %s", x.Error, x.Result)
	require.EqualValues(t, 20, res["output"].(map[string]any)["n"])
	require.Len(t, children(t, e, x.ID), 20)
	tk := tasks(t, e, x.ID)
	require.Len(t, tk, 1)
	require.Equal(t, 20, tk[0].NextItem)
	require.Len(t, tk[0].Items, 20)

	var writes int
	require.NoError(t, e.DB.Pool.QueryRow(ctx, `SELECT count(*) FROM public.items_writes WHERE workflow_id = $1`, x.ID).Scan(&writes))
	require.LessOrEqual(t, writes, 2, "the task's items and context are written when it starts and when it ends, not at each of its 20 items' ends")
}
