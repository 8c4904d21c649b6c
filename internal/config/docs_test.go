package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"
)

// TestConfigDocUpToDate keeps docs/config.md, the configuration reference,
// generated from the same types and comments as the JSON Schema.
func TestConfigDocUpToDate(t *testing.T) {
	var s struct {
		Defs map[string]struct {
			Description string   `json:"description"`
			Required    []string `json:"required"`
			Properties  map[string]json.RawMessage
		} `json:"$defs"`
	}
	if err := json.Unmarshal(generateSchema(t), &s); err != nil {
		t.Fatal(err)
	}
	// Field order follows the Go structs (the schema keeps it).
	var order struct {
		Defs map[string]struct {
			Properties orderedKeys `json:"properties"`
		} `json:"$defs"`
	}
	if err := json.Unmarshal(generateSchema(t), &order); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	b.WriteString("# Configuration reference\n\n")
	b.WriteString("<!-- Generated from internal/config/types.go by TestConfigDocUpToDate; do not edit. -->\n\n")
	b.WriteString("drawbridge reads one YAML file (`drawbridge serve --config FILE`). Unknown fields are errors, and\n")
	b.WriteString("`drawbridge config check FILE` reports every problem at once as `FILE:LINE:COL: FIELD: MESSAGE`.\n\n")
	b.WriteString("Values may use `${VAR}` (an error when VAR is unset), `${VAR:-default}`, and `${file:PATH}` (a secret\n")
	b.WriteString("read from a file, without its trailing newline); `$${` is a literal `${`. References are expanded inside\n")
	b.WriteString("values only, so a variable can never change the structure of the file.\n\n")
	b.WriteString("Durations are Go durations (`500ms`, `10s`, `1h30m`). Sizes are bytes, optionally with a unit\n")
	b.WriteString("(`32KiB`, `10MiB`, `1MB`). A zero or absent value means the documented default.\n\n")
	b.WriteString("Editors can complete and check the file with the JSON Schema: `drawbridge config schema`.\n")
	names := make([]string, 0, len(s.Defs))
	for n := range s.Defs {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool {
		if names[i] == "Config" || names[j] == "Config" {
			return names[i] == "Config"
		}
		return names[i] < names[j]
	})
	for _, n := range names {
		d := s.Defs[n]
		fmt.Fprintf(&b, "\n## %s\n\n%s\n\n", n, oneLine(d.Description))
		b.WriteString("| field | type | description |\n|---|---|---|\n")
		for _, f := range order.Defs[n].Properties {
			var p struct {
				Type        string `json:"type"`
				Ref         string `json:"$ref"`
				Description string `json:"description"`
				Pattern     string `json:"pattern"`
				Items       *struct {
					Type string `json:"type"`
					Ref  string `json:"$ref"`
				} `json:"items"`
				AdditionalProperties *struct {
					Type string `json:"type"`
					Ref  string `json:"$ref"`
				} `json:"additionalProperties"`
				OneOf []any `json:"oneOf"`
			}
			_ = json.Unmarshal(d.Properties[f], &p)
			typ := p.Type
			switch {
			case p.Ref != "":
				typ = link(p.Ref)
			case p.Items != nil:
				typ = "list of " + firstNonEmpty(link(p.Items.Ref), p.Items.Type)
			case p.AdditionalProperties != nil:
				typ = "map of " + firstNonEmpty(link(p.AdditionalProperties.Ref), p.AdditionalProperties.Type)
			case p.OneOf != nil:
				typ = "size"
			}
			if strings.Contains(p.Pattern, "ms|s|m|h") {
				typ = "duration"
			}
			req := ""
			for _, r := range d.Required {
				if r == f {
					req = " **(required)**"
				}
			}
			fmt.Fprintf(&b, "| `%s`%s | %s | %s |\n", f, req, typ, strings.ReplaceAll(oneLine(p.Description), "|", "\\|"))
		}
	}
	got := b.Bytes()
	const path = "../../docs/config.md"
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatal("docs/config.md is stale: run go test ./internal/config -run TestConfigDocUpToDate -update")
	}
}

func link(ref string) string {
	if ref == "" {
		return ""
	}
	n := strings.TrimPrefix(ref, "#/$defs/")
	return "[" + n + "](#" + strings.ToLower(n) + ")"
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// orderedKeys decodes a JSON object's keys in document order.
type orderedKeys []string

func (o *orderedKeys) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	if _, err := dec.Token(); err != nil {
		return err
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		*o = append(*o, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return err
		}
	}
	return nil
}
