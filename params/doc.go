// Package params checks an action's parameters against its flat, StackStorm-style schema
// (attune.ParamSchema): the schema is compiled once to a JSON Schema object with
// additionalProperties false and validated with santhosh-tekuri/jsonschema/v6. It applies
// defaults, reports every field error at once, coerces command-line strings to the declared
// type, and redacts secret parameters. It is pure: no I/O, no database.
//
// The rules, in the order Apply follows them:
//
//   - A parameter given as null counts as not given.
//   - A parameter that is not given and has a default gets a copy of its default. Defaults are
//     applied before validation, so a required parameter with a default is always satisfied.
//   - The result is validated: type, required, enum, minimum/maximum and pattern (an unanchored
//     Go regular expression, as in JSON Schema). A parameter the schema does not declare is an
//     error naming the known ones.
//   - Errors never quote the value of a secret parameter.
package params
