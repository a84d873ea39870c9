package params

import (
	"errors"
	"fmt"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/attune-run/attune"
)

// DocumentSchema is a whole JSON Schema document, as core.ask's schema parameter gives it, rather
// than attune's flat parameter schema. A schema without $schema is read as draft 4, as
// StackStorm reads it, and StackStorm's `required: true` on a property is accepted: it is moved
// into its object's required list.
type DocumentSchema struct {
	js   *jsonschema.Schema
	flat attune.ParamSchema // the top-level properties, named in "unknown field" messages
}

// CompileDocument compiles a JSON Schema document. The error wraps attune.ErrInvalid and says
// what does not compile.
func CompileDocument(schema map[string]any) (*DocumentSchema, error) {
	doc, err := normalize(schema)
	if err != nil {
		return nil, fmt.Errorf("%w: schema cannot be written as JSON: %v", attune.ErrInvalid, err)
	}
	liftRequired(doc)
	jc := jsonschema.NewCompiler()
	jc.DefaultDraft(jsonschema.Draft4)
	const url = "attune-inquiry.json"
	if err := jc.AddResource(url, doc); err != nil {
		return nil, fmt.Errorf("%w: schema: %v", attune.ErrInvalid, err)
	}
	js, err := jc.Compile(url)
	if err != nil {
		return nil, fmt.Errorf("%w: schema does not compile: %s", attune.ErrInvalid, compileReason(err))
	}
	flat := attune.ParamSchema{}
	if props, ok := doc["properties"].(map[string]any); ok {
		for name := range props {
			flat[name] = attune.ParamSpec{}
		}
	}
	return &DocumentSchema{js: js, flat: flat}, nil
}

// Validate checks a document against the schema. It returns FieldErrors listing every field
// that does not match (which wraps attune.ErrInvalid), or nil.
func (s *DocumentSchema) Validate(doc map[string]any) error {
	v, err := normalize(doc)
	if err != nil {
		return FieldErrors{{Field: "(response)", Msg: "cannot be written as JSON: " + err.Error()}}
	}
	if v == nil {
		v = map[string]any{}
	}
	if err := s.js.Validate(v); err != nil {
		return fieldErrors(err, &compiled{flat: s.flat, js: s.js}, v)
	}
	return nil
}

// liftRequired rewrites StackStorm's draft-3 style `required: true` on a property into the
// required list of the object that holds it, at every depth.
func liftRequired(node map[string]any) {
	props, _ := node["properties"].(map[string]any)
	var lifted []any
	for name, p := range props {
		prop, ok := p.(map[string]any)
		if !ok {
			continue
		}
		if req, ok := prop["required"].(bool); ok {
			delete(prop, "required")
			if req {
				lifted = append(lifted, name)
			}
		}
		liftRequired(prop)
	}
	if items, ok := node["items"].(map[string]any); ok {
		liftRequired(items)
	}
	if len(lifted) > 0 {
		existing, _ := node["required"].([]any)
		node["required"] = append(existing, lifted...)
	}
}

// compileReason is what is wrong with a schema, on one line, without the compiler's internal
// resource name: "at '/type': got number, want array".
func compileReason(err error) string {
	var se *jsonschema.SchemaValidationError
	if errors.As(err, &se) {
		var ve *jsonschema.ValidationError
		if errors.As(se.Err, &ve) {
			var leaves []string
			var walk func(*jsonschema.ValidationError)
			walk = func(ve *jsonschema.ValidationError) {
				if len(ve.Causes) == 0 {
					leaves = append(leaves, fmt.Sprintf("at '/%s': %s", strings.Join(ve.InstanceLocation, "/"), ve.ErrorKind.LocalizedString(english)))
				}
				for _, c := range ve.Causes {
					walk(c)
				}
			}
			walk(ve)
			return strings.Join(leaves, "; ")
		}
	}
	return strings.Join(strings.Fields(err.Error()), " ")
}

var english = message.NewPrinter(language.English)
