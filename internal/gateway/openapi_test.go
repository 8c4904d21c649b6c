package gateway_test

import (
	"os"
	"slices"
	"sort"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/drawbridge-gw/drawbridge/internal/gateway"
)

// TestOpenAPIDescribesEndpoints keeps docs/openapi.yaml in step with the
// gateway: every attestation path with its method, every member the
// exchange endpoints accept (and none they refuse), every $ref resolving,
// and every refusal a problem+json.
func TestOpenAPIDescribesEndpoints(t *testing.T) {
	b, err := os.ReadFile("../../docs/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("docs/openapi.yaml: %v", err)
	}
	if doc["openapi"] != "3.1.0" {
		t.Errorf("openapi %v, want 3.1.0", doc["openapi"])
	}
	paths, _ := doc["paths"].(map[string]any)
	for _, p := range gateway.AttestPaths {
		op, ok := paths[p].(map[string]any)
		if !ok {
			t.Errorf("%s is not described", p)
			continue
		}
		method := "post"
		if p == "/.well-known/jwks.json" {
			method = "get"
		}
		if _, ok := op[method]; !ok || len(op) != 1 {
			t.Errorf("%s: want exactly %s, got %v", p, method, keys(op))
		}
	}
	for p := range paths {
		if !slices.Contains(gateway.AttestPaths, p) {
			t.Errorf("%s is described but not served", p)
		}
	}

	// Every $ref resolves.
	walk(doc, func(m map[string]any) {
		ref, ok := m["$ref"].(string)
		if !ok {
			return
		}
		if resolve(doc, ref) == nil {
			t.Errorf("$ref %s does not resolve", ref)
		}
	})

	// The request members documented are the ones accepted.
	documented := map[string]bool{}
	for p, op := range paths {
		post, ok := op.(map[string]any)["post"].(map[string]any)
		if !ok {
			continue
		}
		schema := dig(post, "requestBody", "content", "application/json", "schema")
		if schema == nil {
			t.Errorf("%s: no JSON request body", p)
			continue
		}
		collectProps(doc, schema, documented)
		// Refusals are problem+json.
		responses, _ := post["responses"].(map[string]any)
		for code, r := range responses {
			if code == "200" {
				continue
			}
			ref, _ := r.(map[string]any)["$ref"].(string)
			if ref != "#/components/responses/Problem" {
				t.Errorf("%s %s: want the Problem response, got %v", p, code, r)
			}
		}
	}
	var got []string
	for k := range documented {
		got = append(got, k)
	}
	sort.Strings(got)
	want := gateway.AttestRequestFields()
	sort.Strings(want)
	if !slices.Equal(got, want) {
		t.Errorf("request members: documented %v, accepted %v", got, want)
	}
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func walk(v any, f func(map[string]any)) {
	switch x := v.(type) {
	case map[string]any:
		f(x)
		for _, e := range x {
			walk(e, f)
		}
	case []any:
		for _, e := range x {
			walk(e, f)
		}
	}
}

func resolve(doc map[string]any, ref string) any {
	p, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return nil
	}
	var cur any = doc
	for _, seg := range strings.Split(p, "/") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[seg]
	}
	return cur
}

func dig(v any, path ...string) any {
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[p]
	}
	return v
}

// collectProps adds the property names of a schema, following $ref and
// allOf.
func collectProps(doc map[string]any, schema any, out map[string]bool) {
	m, ok := schema.(map[string]any)
	if !ok {
		return
	}
	if ref, ok := m["$ref"].(string); ok {
		collectProps(doc, resolve(doc, ref), out)
	}
	if all, ok := m["allOf"].([]any); ok {
		for _, s := range all {
			collectProps(doc, s, out)
		}
	}
	if props, ok := m["properties"].(map[string]any); ok {
		for k := range props {
			out[k] = true
		}
	}
}
