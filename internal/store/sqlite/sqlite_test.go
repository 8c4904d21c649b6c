package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/drawbridge-gw/drawbridge/internal/store"
	"github.com/drawbridge-gw/drawbridge/internal/store/sqlite"
	"github.com/drawbridge-gw/drawbridge/internal/store/storetest"
)

func openDurable(t testing.TB, path string) *sqlite.Durable {
	t.Helper()
	d, err := sqlite.Open(context.Background(), sqlite.Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func TestConformance(t *testing.T) {
	storetest.TestDurable(t, func(t *testing.T) store.Durable {
		return openDurable(t, filepath.Join(t.TempDir(), "drawbridge.db"))
	})
}
