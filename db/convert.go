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

// object decodes a jsonb object column; NULL becomes an empty map. A value that is not a JSON
// object is an error naming the column, which the caller prefixes with the row.
func object(b []byte, column string) (map[string]any, error) {
	m := map[string]any{}
	if len(b) > 0 {
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("%s: %w", column, err)
		}
		if m == nil { // JSON null
			m = map[string]any{}
		}
	}
	return m, nil
}

// decode unmarshals a non-empty jsonb column into v; the error names the column.
func decode(b []byte, column string, v any) error {
	if len(b) == 0 {
		return nil
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", column, err)
	}
	return nil
}

func toAction(r dbsqlc.AttuneAction) (attune.Action, error) {
	var params attune.ParamSchema
	err := decode(r.ParamSchema, "parameters", &params)
	var retry *attune.RetryPolicy
	if err == nil && len(r.Retry) > 0 && string(r.Retry) != "null" {
		retry = &attune.RetryPolicy{}
		err = decode(r.Retry, "retry", retry)
	}
	var env map[string]string
	if err == nil && string(r.Env) != "{}" {
		err = decode(r.Env, "env", &env)
	}
	var files map[string][]byte
	if err == nil && string(r.Files) != "{}" {
		err = decode(r.Files, "files", &files) // values are base64, as encoding/json writes []byte
	}
	if err != nil {
		return attune.Action{}, fmt.Errorf("action %s: %w", r.Ref, err)
	}
	return attune.Action{
		Env: env,
		Ref: r.Ref, PackRef: r.PackRef, Label: r.Label, Description: r.Description,
		Runtime: r.Runtime, EntryPoint: r.EntryPoint, EntryContent: r.EntryContent, Files: files,
		Parameters: params, OutputFormat: r.OutputFormat, ParameterFormat: r.ParameterFormat,
		ParameterDelivery: r.ParameterDelivery, TimeoutSec: int(r.TimeoutSeconds), Retry: retry,
	}, nil
}

func toRule(r dbsqlc.AttuneRule) (attune.Rule, error) {
	actionParams, err := object(r.ActionParams, "action_params")
	if err != nil {
		return attune.Rule{}, fmt.Errorf("rule %s: %w", r.Ref, err)
	}
	triggerParams, err := object(r.TriggerParams, "trigger_params")
	if err != nil {
		return attune.Rule{}, fmt.Errorf("rule %s: %w", r.Ref, err)
	}
	return attune.Rule{
		ID: r.ID, Ref: r.Ref, PackRef: r.PackRef, Label: r.Label, Description: r.Description,
		TriggerRef: r.TriggerRef, ActionRef: r.ActionRef, Enabled: r.Enabled,
		Criteria: json.RawMessage(r.Criteria), ActionParams: actionParams,
		TriggerParams: triggerParams,
	}, nil
}

func toTimer(r dbsqlc.AttuneTimer) (attune.Timer, error) {
	params, err := object(r.Params, "params")
	if err != nil {
		return attune.Timer{}, fmt.Errorf("timer %d: %w", r.ID, err)
	}
	return attune.Timer{
		ID: r.ID, RuleID: r.RuleID, TriggerRef: r.TriggerRef, Params: params,
		Enabled: r.Enabled, NextFireAt: r.NextFireAt, FireJobID: r.FireJobID,
		FireCount: r.FireCount, LastFiredAt: r.LastFiredAt,
	}, nil
}

func toEvent(r dbsqlc.AttuneEvent) (attune.Event, error) {
	payload, err := object(r.Payload, "payload")
	if err != nil {
		return attune.Event{}, fmt.Errorf("event %d: %w", r.ID, err)
	}
	return attune.Event{
		ID: r.ID, TriggerRef: r.TriggerRef, Payload: payload, RuleID: r.RuleID,
		CreatedAt: r.CreatedAt, ProcessingError: r.ProcessingError,
	}, nil
}

func toEnforcement(r dbsqlc.AttuneEnforcement) (attune.Enforcement, error) {
	params, err := object(r.Parameters, "parameters")
	if err != nil {
		return attune.Enforcement{}, fmt.Errorf("enforcement %d: %w", r.ID, err)
	}
	return attune.Enforcement{
		ID: r.ID, RuleID: r.RuleID, RuleRef: r.RuleRef, EventID: r.EventID,
		Status: attune.EnforcementStatus(r.Status), Parameters: params,
		Reason: r.Reason, CreatedAt: r.CreatedAt,
	}, nil
}

func toExecution(r dbsqlc.AttuneExecution) (attune.Execution, error) {
	params, err := object(r.Parameters, "parameters")
	if err != nil {
		return attune.Execution{}, fmt.Errorf("execution %d: %w", r.ID, err)
	}
	x := attune.Execution{
		ID: r.ID, ActionRef: r.ActionRef, Runtime: r.Runtime, EnforcementID: r.EnforcementID,
		Attempt: int(r.Attempt), OriginalID: r.OriginalID, RerunOf: r.RerunOf, Status: attune.ExecutionStatus(r.Status),
		Parameters: params, SealedSecrets: r.Secrets, Error: r.Error, Worker: r.Worker,
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
	return x, nil
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

// mapRows maps rows with a conversion that may fail; the first failure is returned.
func mapRows[R, D any](rows []R, f func(R) (D, error)) ([]D, error) {
	out := make([]D, len(rows))
	for i, r := range rows {
		d, err := f(r)
		if err != nil {
			return nil, err
		}
		out[i] = d
	}
	return out, nil
}

func mapSlice[R, D any](rows []R, f func(R) D) []D {
	out := make([]D, len(rows))
	for i, r := range rows {
		out[i] = f(r)
	}
	return out
}
