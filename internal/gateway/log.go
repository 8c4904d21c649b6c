package gateway

import (
	"io"
	"sync"
	"time"
)

// AsyncWriter is an io.Writer for log lines that never blocks its caller
// on I/O: lines are appended to a memory buffer under a short lock, and a
// background goroutine writes the buffer out every FlushInterval or as
// soon as it passes a threshold. When the buffer is full, lines are
// dropped and counted. A request must never wait for a slow disk or a
// stalled pipe, and, at tens of thousands of requests per second, must
// not pay for a goroutine hand-off per line either.
type AsyncWriter struct {
	out     io.Writer
	dropped func()
	max     int // bytes the buffer may hold
	flushAt int // bytes that trigger an early flush

	mu   sync.Mutex
	buf  []byte
	kick chan struct{}
	stop chan struct{}
	done chan struct{}
	once sync.Once
}

// FlushInterval is how long a log line may wait in memory.
const FlushInterval = 100 * time.Millisecond

// NewAsyncWriter starts a writer to out whose buffer holds about lines
// typical log lines (512 bytes each). dropped, if not nil, is called for
// each dropped line.
func NewAsyncWriter(out io.Writer, lines int, dropped func()) *AsyncWriter {
	if lines <= 0 {
		lines = 8192
	}
	w := &AsyncWriter{
		out:     out,
		dropped: dropped,
		max:     lines * 512,
		kick:    make(chan struct{}, 1),
		stop:    make(chan struct{}),
		done:    make(chan struct{}),
	}
	w.flushAt = min(w.max/2, 256<<10)
	w.buf = make([]byte, 0, w.flushAt)
	go w.run()
	return w
}

// Write queues a copy of p.
func (w *AsyncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	if len(w.buf)+len(p) > w.max {
		w.mu.Unlock()
		if w.dropped != nil {
			w.dropped()
		}
		return len(p), nil
	}
	w.buf = append(w.buf, p...)
	n := len(w.buf)
	w.mu.Unlock()
	if n >= w.flushAt {
		select {
		case w.kick <- struct{}{}:
		default:
		}
	}
	return len(p), nil
}

func (w *AsyncWriter) run() {
	defer close(w.done)
	t := time.NewTicker(FlushInterval)
	defer t.Stop()
	spare := make([]byte, 0, w.flushAt)
	for {
		select {
		case <-t.C:
		case <-w.kick:
		case <-w.stop:
			w.flush(&spare)
			return
		}
		w.flush(&spare)
	}
}

// flush swaps the buffer for spare and writes it outside the lock.
func (w *AsyncWriter) flush(spare *[]byte) {
	w.mu.Lock()
	if len(w.buf) == 0 {
		w.mu.Unlock()
		return
	}
	w.buf, *spare = (*spare)[:0], w.buf
	w.mu.Unlock()
	_, _ = w.out.Write(*spare)
}

// Close writes what is buffered and stops the writer. Lines written after
// Close are kept in memory and never written.
func (w *AsyncWriter) Close() error {
	w.once.Do(func() { close(w.stop) })
	<-w.done
	return nil
}
