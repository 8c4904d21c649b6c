package gateway_test

import (
	"bytes"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/drawbridge-gw/drawbridge/internal/gateway"
)

func TestAsyncWriterKeepsOrderAndFlushesOnClose(t *testing.T) {
	var out syncBuffer
	w := gateway.NewAsyncWriter(&out, 1000, nil)
	var want bytes.Buffer
	for i := range 500 {
		line := fmt.Sprintf("line %d\n", i)
		want.WriteString(line)
		_, _ = w.Write([]byte(line))
	}
	_ = w.Close()
	if out.String() != want.String() {
		t.Fatalf("got %d bytes, want %d", len(out.String()), want.Len())
	}
}

func TestAsyncWriterFlushesPeriodically(t *testing.T) {
	var out syncBuffer
	w := gateway.NewAsyncWriter(&out, 1000, nil)
	defer w.Close()
	_, _ = w.Write([]byte("hello\n"))
	deadline := time.Now().Add(5 * time.Second)
	for out.String() != "hello\n" {
		if time.Now().After(deadline) {
			t.Fatal("line not flushed")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// blockingWriter stalls until released, like a full pipe.
type blockingWriter struct {
	release chan struct{}
	mu      sync.Mutex
	n       int
}

func (b *blockingWriter) Write(p []byte) (int, error) {
	<-b.release
	b.mu.Lock()
	b.n += len(p)
	b.mu.Unlock()
	return len(p), nil
}

func TestAsyncWriterNeverBlocksAndCountsDrops(t *testing.T) {
	bw := &blockingWriter{release: make(chan struct{})}
	var dropped atomic.Int64
	w := gateway.NewAsyncWriter(bw, 10, func() { dropped.Add(1) })
	line := bytes.Repeat([]byte("x"), 100)
	done := make(chan struct{})
	go func() {
		for range 10000 {
			_, _ = w.Write(line)
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Write blocked on a stalled output")
	}
	if dropped.Load() == 0 {
		t.Fatal("no line counted as dropped")
	}
	close(bw.release)
	_ = w.Close()
}
