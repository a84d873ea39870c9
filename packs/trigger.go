package packs

import "github.com/attune-run/attune"

// readTrigger reads one triggers/*.yaml file. The trigger_params schema is `parameters` (or
// StackStorm's `parameters_schema`); the event payload schema is `payload`, `output` or
// StackStorm's `payload_schema`.
func (l *loader) readTrigger(rel string) (attune.Trigger, bool) {
	s, ok := l.parse(rel)
	if !ok {
		return attune.Trigger{}, false
	}
	s.checkKeys(triggerKeys)
	ref, ok := l.componentRef(s, "trigger")
	t := attune.Trigger{
		Ref:         ref,
		PackRef:     l.pack.Ref,
		Label:       s.label("label"),
		Description: s.description("description"),
		Parameters:  attune.ParamSchema{},
		Payload:     attune.ParamSchema{},
	}
	if key := s.alias("parameters", "parameters_schema"); key != "" {
		t.Parameters = readSchema(s, key)
	}
	if key := s.alias("payload", "output", "payload_schema"); key != "" {
		t.Payload = readSchema(s, key)
	}
	return t, ok
}
