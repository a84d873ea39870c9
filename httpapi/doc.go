// Package httpapi is attune's HTTP surface, served by `attune start` with the api role: the JSON
// REST API under /api/v1 (executions, events, rules, actions, packs), signed webhooks
// (POST /api/v1/webhooks/NAME), /healthz and /readyz, and /metrics.
//
// Every route but /healthz, /readyz and webhooks with their own verification needs an API key,
// given as `Authorization: Bearer KEY`, `St2-Api-Key: KEY` or HTTP Basic with the key as the
// password. Keys are stored as their SHA-256 and checked against the database on every
// request, so a revoked key stops working at once on every replica.
//
// Errors are application/problem+json (RFC 9457) with a `detail` a person can act on and, when
// fields are at fault, `errors: [{field, message}]`. Request bodies are capped (Config.MaxBody,
// 413 past it), must be UTF-8 and JSON nested at most MaxDepth levels.
package httpapi
