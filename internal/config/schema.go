package config

import _ "embed"

// Schema is the JSON Schema of the config file, generated from the Go
// types and their doc comments (see TestSchemaUpToDate; regenerate with
// `go test ./internal/config -run TestSchemaUpToDate -update`).
//
//go:embed drawbridge.schema.json
var Schema []byte
