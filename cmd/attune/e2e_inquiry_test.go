package main_test

import (
	"encoding/json"
	"regexp"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
)

// core.ask with the real binary: attune run returns once the execution is pending, attune inquiry
// list shows the inquiry, an answer that does not match the schema is refused with the field at
// fault, a valid one completes the execution with result.response, and a second is refused.
func TestInquiryEndToEnd(t *testing.T) {
	in := newInstance(t)
	stop, logs := in.start()
	defer stop()
	in.dbURL()

	out, errOut, code := in.attune("run", "core.ask", "route=ops")
	require.Equal(t, 0, code, "run core.ask: %s %s\nlogs:\n%s", out, errOut, logs)
	m := regexp.MustCompile(`execution (\d+) is pending`).FindStringSubmatch(out)
	require.NotNil(t, m, out)
	id := m[1]

	out, errOut, code = in.attune("inquiry", "list", "--status", "pending", "--json")
	require.Equal(t, 0, code, errOut)
	var list []map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &list))
	require.Len(t, list, 1)
	require.Equal(t, id, strconv.FormatFloat(list[0]["id"].(float64), 'f', -1, 64))
	require.Equal(t, "ops", list[0]["route"])
	require.Equal(t, float64(1440), list[0]["ttl"])

	// attune status counts it, and execution list filters on it.
	out, errOut, code = in.attune("status")
	require.Equal(t, 0, code, errOut)
	require.Regexp(t, `(?m)^pending\s+1$`, out)
	out, errOut, code = in.attune("execution", "list", "--status", "pending")
	require.Equal(t, 0, code, errOut)
	require.Regexp(t, `(?m)^`+id+`\s+core.ask\s+pending`, out)

	out, errOut, code = in.attune("execution", "get", id)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "waiting for an answer to inquiry "+id+": attune inquiry get "+id)

	out, errOut, code = in.attune("inquiry", "get", id)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "Would you like to continue the workflow?")
	require.Contains(t, out, "answer with: attune inquiry respond "+id)

	out, errOut, code = in.attune("inquiry", "respond", id, "continue=maybe", "note=x")
	require.Equal(t, 2, code, "%s %s", out, errOut)
	require.Contains(t, errOut, "the answer does not match the schema of inquiry "+id+"; nothing changed")
	require.Contains(t, errOut, `continue: must be true or false, got "maybe"`)
	out, errOut, code = in.attune("inquiry", "respond", id)
	require.Equal(t, 2, code, "%s %s", out, errOut)
	require.Contains(t, errOut, "continue: required")

	out, errOut, code = in.attune("inquiry", "respond", id, "continue=true")
	require.Equal(t, 0, code, "%s %s", out, errOut)
	require.Contains(t, out, "inquiry "+id+" answered")

	out, errOut, code = in.attune("execution", "get", id, "--json")
	require.Equal(t, 0, code, errOut)
	var x map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &x))
	require.Equal(t, "completed", x["status"])
	require.Equal(t, map[string]any{"response": map[string]any{"continue": true}}, x["result"])

	out, errOut, code = in.attune("inquiry", "respond", id, "continue=false")
	require.Equal(t, 1, code, "%s %s", out, errOut)
	require.Contains(t, errOut, "inquiry "+id+" was already answered by cli:")

	out, errOut, code = in.attune("inquiry", "get", id, "--json")
	require.Equal(t, 0, code, errOut)
	var inq map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &inq))
	require.Equal(t, "responded", inq["status"])
	require.Equal(t, map[string]any{"continue": true}, inq["response"])
	require.Equal(t, 0, stop(), "logs:\n%s", logs)
}
