// Package migrate orders and checks the embedded schema migrations of the
// SQL backends. Each backend applies them with its own driver, in one
// transaction at open, recording each version in its schema_migrations
// table; this package only decides which files to run.
//
// A migration is a file NNNN_name.sql; versions start at 1 and have no
// gaps, so that "the database is at version N" names one schema. A file is
// never edited once released: a change is a new file.
package migrate

import (
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

// Migration is one schema step.
type Migration struct {
	Version int
	// Name is the file name, for messages.
	Name string
	SQL  string
}

// Load reads every *.sql file in dir of fsys, ordered by version.
func Load(fsys fs.FS, dir string) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	var ms []Migration
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".sql") {
			continue
		}
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v < 1 || len(num) != 4 {
			return nil, fmt.Errorf("migrate: %s: want a name like 0001_name.sql", name)
		}
		b, err := fs.ReadFile(fsys, path.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("migrate: %w", err)
		}
		ms = append(ms, Migration{Version: v, Name: name, SQL: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Version < ms[j].Version })
	for i, m := range ms {
		if m.Version != i+1 {
			return nil, fmt.Errorf("migrate: %s: expected version %d (versions start at 1, without gaps or duplicates)", m.Name, i+1)
		}
	}
	return ms, nil
}

// Pending returns the migrations after version current. A database at a
// version newer than every known migration was written by a newer
// drawbridge: running against it could misread its rows, so Pending
// refuses it with a *TooNewError.
func Pending(ms []Migration, current int) ([]Migration, error) {
	if current > len(ms) {
		return nil, &TooNewError{Current: current, Known: len(ms)}
	}
	if current < 0 {
		return nil, fmt.Errorf("migrate: impossible schema version %d", current)
	}
	return ms[current:], nil
}

// TooNewError reports a database whose schema is newer than this build.
type TooNewError struct {
	// Current is the database's schema version, Known the newest this
	// build has.
	Current, Known int
}

func (e *TooNewError) Error() string {
	return fmt.Sprintf("schema version %d is newer than this drawbridge knows (%d): "+
		"upgrade drawbridge, or point it at a database written by this version", e.Current, e.Known)
}
