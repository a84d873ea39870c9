package db

import (
	"encoding/json"
	"fmt"

	"github.com/attune-run/attune"
	"github.com/attune-run/attune/db/internal/dbsqlc"
)

// jsonb marshals v for a jsonb column; nil maps become {}.
func jsonb(v any) ([]byte, error) {
	if m, ok := v.(map[string]any); ok && m == nil {
		return []byte("{}"), nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode json: %w", err)
	}
	return b, nil
}

// object decodes a jsonb object column; NULL and invalid content become an empty map.
func object(b []byte) map[string]any {
	m := map[string]any{}
	if len(b) > 0 {
		_ = json.Unmarshal(b, &m)
	}
	return m
}

func toAction(r dbsqlc.AttuneAction) attune.Action {
	var params attune.ParamSchema
	_ = json.Unmarshal(r.ParamSchema, &params)
	var retry *attune.RetryPolicy
	if len(r.Retry) > 0 && string(r.Retry) != "null" {
		retry = &attune.RetryPolicy{}
		_ = json.Unmarshal(r.Retry, retry)
	}
	var env map[string]string
	if len(r.Env) > 0 && string(r.Env) != "{}" {
		_ = json.Unmarshal(r.Env, &env)
	}
	var files map[string][]byte
	if len(r.Files) > 0 && string(r.Files) != "{}" {
		_ = json.Unmarshal(r.Files, &files) // values are base64, as encoding/json writes []byte
	}
	return attune.Action{
		Env: env,
		Ref: r.Ref, PackRef: r.PackRef, Label: r.Label, Description: r.Description,
		Runtime: r.Runtime, EntryPoint: r.EntryPoint, EntryContent: r.EntryContent, Files: files,
		Parameters: params, OutputFormat: r.OutputFormat, ParameterFormat: r.ParameterFormat,
		ParameterDelivery: r.ParameterDelivery, TimeoutSec: int(r.TimeoutSeconds), Retry: retry,
	}
}

func toRule(r dbsqlc.AttuneRule) attune.Rule {
	return attune.Rule{
		ID: r.ID, Ref: r.Ref, PackRef: r.PackRef, Label: r.Label, Description: r.Description,
		TriggerRef: r.TriggerRef, ActionRef: r.ActionRef, Enabled: r.Enabled,
		Criteria: json.RawMessage(r.Criteria), ActionParams: object(r.ActionParams),
		TriggerParams: object(r.TriggerParams),
	}
}

func toTimer(r dbsqlc.AttuneTimer) attune.Timer {
	return attune.Timer{
		ID: r.ID, RuleID: r.RuleID, TriggerRef: r.TriggerRef, Params: object(r.Params),
		Enabled: r.Enabled, NextFireAt: r.NextFireAt, FireJobID: r.FireJobID,
		FireCount: r.FireCount, LastFiredAt: r.LastFiredAt,
	}
}

func toEvent(r dbsqlc.AttuneEvent) attune.Event {
	return attune.Event{
		ID: r.ID, TriggerRef: r.TriggerRef, Payload: object(r.Payload), RuleID: r.RuleID,
		CreatedAt: r.CreatedAt, ProcessingError: r.ProcessingError,
	}
}

func toEnforcement(r dbsqlc.AttuneEnforcement) attune.Enforcement {
	return attune.Enforcement{
		ID: r.ID, RuleID: r.RuleID, RuleRef: r.RuleRef, EventID: r.EventID,
		Status: attune.EnforcementStatus(r.Status), Parameters: object(r.Parameters),
		Reason: r.Reason, CreatedAt: r.CreatedAt,
	}
}

func toExecution(r dbsqlc.AttuneExecution) attune.Execution {
	x := attune.Execution{
		ID: r.ID, ActionRef: r.ActionRef, Runtime: r.Runtime, EnforcementID: r.EnforcementID,
		Attempt: int(r.Attempt), OriginalID: r.OriginalID, RerunOf: r.RerunOf, Status: attune.ExecutionStatus(r.Status),
		Parameters: object(r.Parameters), SealedSecrets: r.Secrets, Error: r.Error, Worker: r.Worker,
		TimeoutSec: int(r.TimeoutSeconds), CreatedAt: r.CreatedAt, ScheduledAt: r.ScheduledAt,
		StartedAt: r.StartedAt, FinishedAt: r.FinishedAt,
	}
	if len(r.Result) > 0 {
		x.Result = json.RawMessage(r.Result)
	}
	if r.ParentID != nil {
		x.Parent = &attune.TaskRef{ParentID: *r.ParentID, Task: deref0(r.Task), Route: int(deref0(r.TaskRoute)),
			Item: -1, Retry: int(deref0(r.TaskRetry))}
		if r.TaskItem != nil {
			x.Parent.Item = int(*r.TaskItem)
		}
	}
	return x
}

// deref0 is *p, or the zero value when p is nil.
func deref0[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func toTransition(r dbsqlc.AttuneExecutionHistory) attune.Transition {
	t := attune.Transition{
		ExecutionID: r.ExecutionID, To: attune.ExecutionStatus(r.ToStatus), At: r.At,
		Worker: r.Worker, Reason: r.Reason,
	}
	if r.FromStatus != nil {
		t.From = attune.ExecutionStatus(*r.FromStatus)
	}
	return t
}

func mapSlice[R, D any](rows []R, f func(R) D) []D {
	out := make([]D, len(rows))
	for i, r := range rows {
		out[i] = f(r)
	}
	return out
}
