// Package config reads drawbridge's YAML configuration.
//
// Loading is strict because a security gateway that silently ignores a
// misspelt policy is worse than one that refuses to start: unknown fields
// are errors, every problem is reported at once with its file, line and
// field path, and a config that fails validation is never half-applied.
// The running gateway keeps its old config when a reload is refused.
//
// # Stages
//
// Load decodes the YAML (expanding ${VAR}, ${VAR:-default} and
// ${file:PATH} references in values), fills in documented defaults with
// ApplyDefaults, then validates with Validate, which has no side effects.
// The gateway package compiles the result once per load.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// MaxFileBytes bounds the size of a config file.
const MaxFileBytes = 4 << 20

// Source says where values come from: the environment and secret files.
// Tests and the demo inject their own.
type Source struct {
	// LookupEnv returns a variable's value. If nil, os.LookupEnv is used.
	LookupEnv func(string) (string, bool)
	// ReadFile reads ${file:...} secrets. If nil, os.ReadFile is used.
	ReadFile func(string) ([]byte, error)
}

// File is a loaded, defaulted and validated configuration plus where each
// field was written.
type File struct {
	Name   string
	Config *Config
	pos    map[string]Pos
}

// Pos returns where the field at path was written, or its closest written
// parent; zero when nothing of it was written.
func (f *File) Pos(path string) Pos { return lookupPos(f.pos, path) }

// Load reads, decodes, defaults and validates the config file at name.
// On failure the error is an Errors listing every problem.
func Load(name string, src Source) (*File, error) {
	data, err := readLimited(name)
	if err != nil {
		return nil, Errors{{File: name, Msg: err.Error()}}
	}
	return Parse(name, data, src)
}

func readLimited(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, errors.Unwrap(err)
	}
	defer f.Close()
	data := make([]byte, 0, 4096)
	buf := make([]byte, 32<<10)
	for {
		n, err := f.Read(buf)
		data = append(data, buf[:n]...)
		if len(data) > MaxFileBytes {
			return nil, fmt.Errorf("config file is larger than %d bytes", MaxFileBytes)
		}
		if err != nil {
			return data, nil
		}
	}
}

// Parse is Load for bytes already read; name is used in messages.
func Parse(name string, data []byte, src Source) (*File, error) {
	if src.LookupEnv == nil {
		src.LookupEnv = os.LookupEnv
	}
	if src.ReadFile == nil {
		src.ReadFile = os.ReadFile
	}
	if len(data) > MaxFileBytes {
		return nil, Errors{{File: name, Msg: fmt.Sprintf("config is larger than %d bytes", MaxFileBytes)}}
	}
	var root yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&root); err != nil && err.Error() != "EOF" {
		return nil, Errors{yamlSyntaxError(name, err)}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, Errors{{File: name, Line: extra.Line, Msg: "only one YAML document is allowed"}}
	}
	d := &decoder{file: name, interp: &interpolator{lookup: src.LookupEnv, readFile: src.ReadFile}, pos: map[string]Pos{}}
	cfg := new(Config)
	if len(root.Content) > 0 {
		d.decode(root.Content[0], reflectValue(cfg), "")
	}
	cfg.ApplyDefaults()
	f := &File{Name: name, Config: cfg, pos: d.pos}
	// Validate even after decoding problems, so one run reports everything;
	// skip findings about fields that already failed to decode.
	errs := d.errs
	for _, e := range f.Locate(cfg.Validate()) {
		if !overlapsAny(e.Field, d.errs) {
			errs = append(errs, e)
		}
	}
	if len(errs) > 0 {
		sort.SliceStable(errs, func(i, j int) bool { return errs[i].Line < errs[j].Line })
		return nil, errs
	}
	return f, nil
}

func yamlSyntaxError(name string, err error) *Error {
	// yaml.v3 formats syntax errors as "yaml: line N: message".
	var line int
	msg := err.Error()
	if _, scanErr := fmt.Sscanf(msg, "yaml: line %d:", &line); scanErr == nil {
		if i := bytes.IndexByte([]byte(msg), ':'); i >= 0 {
			if j := bytes.IndexByte([]byte(msg[i+1:]), ':'); j >= 0 {
				msg = msg[i+1+j+1:]
			}
		}
	}
	return &Error{File: name, Line: line, Col: 1, Msg: "YAML syntax: " + trimSpace(msg)}
}

func trimSpace(s string) string { return string(bytes.TrimSpace([]byte(s))) }

func lookupPos(pos map[string]Pos, path string) Pos {
	for {
		if p, ok := pos[path]; ok {
			return p
		}
		i := lastSep(path)
		if i < 0 {
			return Pos{}
		}
		path = path[:i]
	}
}

func lastSep(path string) int {
	for i := len(path) - 1; i >= 0; i-- {
		if path[i] == '.' || path[i] == '[' {
			return i
		}
	}
	return -1
}

func overlapsAny(field string, errs Errors) bool {
	for _, e := range errs {
		if field == e.Field || strings.HasPrefix(field, e.Field+".") || strings.HasPrefix(field, e.Field+"[") ||
			strings.HasPrefix(e.Field, field+".") || strings.HasPrefix(e.Field, field+"[") {
			return true
		}
	}
	return false
}
