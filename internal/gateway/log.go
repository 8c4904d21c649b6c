package gateway

import (
	"bufio"
	"io"
	"sync"
)

// AsyncWriter is an io.Writer for log lines that never blocks its caller:
// each Write is queued for a background goroutine, and when the queue is
// full the line is dropped and counted. A request must never wait for a
// slow disk or a stalled pipe.
type AsyncWriter struct {
	ch      chan *[]byte
	out     *bufio.Writer
	dropped func()
	pool    sync.Pool
	done    chan struct{}
	once    sync.Once
}

// NewAsyncWriter starts a writer to out holding up to lines queued lines.
// dropped, if not nil, is called for each dropped line.
func NewAsyncWriter(out io.Writer, lines int, dropped func()) *AsyncWriter {
	if lines <= 0 {
		lines = 8192
	}
	w := &AsyncWriter{
		ch:      make(chan *[]byte, lines),
		out:     bufio.NewWriterSize(out, 64<<10),
		dropped: dropped,
		done:    make(chan struct{}),
	}
	w.pool.New = func() any { b := make([]byte, 0, 512); return &b }
	go w.run()
	return w
}

// Write queues a copy of p.
func (w *AsyncWriter) Write(p []byte) (int, error) {
	b := w.pool.Get().(*[]byte)
	*b = append((*b)[:0], p...)
	select {
	case w.ch <- b:
	default:
		w.pool.Put(b)
		if w.dropped != nil {
			w.dropped()
		}
	}
	return len(p), nil
}

func (w *AsyncWriter) run() {
	defer close(w.done)
	for b := range w.ch {
		_, _ = w.out.Write(*b)
		w.put(b)
		// Drain what is queued before flushing: one syscall per burst.
		for n := len(w.ch); n > 0; n-- {
			b := <-w.ch
			_, _ = w.out.Write(*b)
			w.put(b)
		}
		_ = w.out.Flush()
	}
	_ = w.out.Flush()
}

func (w *AsyncWriter) put(b *[]byte) {
	if cap(*b) <= 16<<10 {
		w.pool.Put(b)
	}
}

// Close flushes queued lines and stops the writer. Writes after Close
// panic, so close it only after the server has stopped.
func (w *AsyncWriter) Close() error {
	w.once.Do(func() { close(w.ch) })
	<-w.done
	return nil
}
