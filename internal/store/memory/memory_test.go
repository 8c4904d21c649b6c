package memory_test

import (
	"testing"
	"time"

	"github.com/drawbridge-gw/drawbridge/internal/store"
	"github.com/drawbridge-gw/drawbridge/internal/store/memory"
	"github.com/drawbridge-gw/drawbridge/internal/store/storetest"
)

func TestHotConformance(t *testing.T) {
	storetest.TestHot(t, func(t *testing.T) store.Hot {
		h := memory.NewHot(memory.HotOptions{SweepInterval: 10 * time.Millisecond})
		t.Cleanup(func() { h.Close() })
		return h
	})
}

func TestDurableConformance(t *testing.T) {
	storetest.TestDurable(t, func(t *testing.T) store.Durable {
		d := memory.NewDurable()
		t.Cleanup(func() { d.Close() })
		return d
	})
}
