package config

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"reflect"
	"testing"

	"github.com/invopop/jsonschema"
)

var update = flag.Bool("update", false, "rewrite generated files")

// generateSchema builds the config's JSON Schema from the Go types and
// their doc comments, so editors complete and check drawbridge.yaml.
func generateSchema(t *testing.T) []byte {
	t.Helper()
	r := &jsonschema.Reflector{
		FieldNameTag:               "yaml",
		RequiredFromJSONSchemaTags: true,
		DoNotReference:             false,
		Mapper: func(rt reflect.Type) *jsonschema.Schema {
			switch rt {
			case reflect.TypeFor[Duration]():
				return &jsonschema.Schema{Type: "string", Pattern: `^(0|-?([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+)$`, Description: "a duration such as 500ms, 10s or 1h30m"}
			case reflect.TypeFor[ByteSize]():
				return &jsonschema.Schema{OneOf: []*jsonschema.Schema{
					{Type: "integer", Minimum: json.Number("0")},
					{Type: "string", Pattern: `^[0-9]+ ?(B|KB|MB|GB|KiB|MiB|GiB)?$`},
				}, Description: "a size in bytes: 4096, 32KiB, 10MB"}
			case reflect.TypeFor[Prefix]():
				return &jsonschema.Schema{Type: "string", Description: "an IP address or CIDR network"}
			}
			return nil
		},
	}
	if err := r.AddGoComments("github.com/drawbridge-gw/drawbridge/internal/config", "."); err != nil {
		t.Fatal(err)
	}
	s := r.Reflect(&Config{})
	// A policy list item names exactly one layer.
	if ps, ok := s.Definitions["PolicySpec"]; ok {
		one := uint64(1)
		ps.MinProperties, ps.MaxProperties = &one, &one
	}
	s.ID = "https://github.com/drawbridge-gw/drawbridge/internal/config/drawbridge.schema.json"
	s.Title = "drawbridge configuration"
	out, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(out, '\n')
}

func TestSchemaUpToDate(t *testing.T) {
	got := generateSchema(t)
	if *update {
		if err := os.WriteFile("drawbridge.schema.json", got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if !bytes.Equal(got, Schema) {
		t.Fatal("drawbridge.schema.json is stale: run go test ./internal/config -run TestSchemaUpToDate -update")
	}
}
