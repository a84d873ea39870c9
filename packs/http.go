package packs

import (
	"slices"
	"strings"

	"github.com/attune-run/attune"
)

// httpParameters are the parameters the http runtime understands, as runtimes.HTTPParameters
// lists them (a test keeps the two equal; packs does not import runtimes).
var httpParameters = []string{
	"url", "method", "headers", "query", "body", "json", "timeout",
	"auth_type", "auth_username", "auth_password", "auth_token",
	"fail_on_status", "follow_redirects", "max_redirects",
	"params", "allow_redirects", "username", "password", "cookies", "verify_ssl_cert",
}

// checkHTTPParams checks the parameter schema of an http action: it declares url, and no
// parameter the http runtime would not know what to do with. Each unknown one is reported at
// its name.
func checkHTTPParams(s scope, schema attune.ParamSchema) {
	params, flat := s.m["parameters"].(map[string]any)
	for _, name := range sortedKeys(schema) {
		if slices.Contains(httpParameters, name) {
			continue
		}
		key := "parameters"
		at := s
		if _, ok := params[name]; flat && ok {
			at, key = scope{d: s.d, path: s.keyPath("parameters"), m: params}, name
		}
		at.errorf(key, "parameter %q means nothing to the http runtime; it takes %s", name, strings.Join(httpParameters, ", "))
	}
	if _, ok := schema["url"]; !ok {
		key := "runner_type"
		if s.has("parameters") {
			key = "parameters"
		}
		s.errorf(key, "an http action needs a url parameter, like url: {type: string, required: true}")
	}
}
