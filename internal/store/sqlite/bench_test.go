package sqlite_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	"github.com/drawbridge-gw/drawbridge/internal/store/storetest"
)

func BenchmarkDurable(b *testing.B) {
	storetest.BenchmarkDurable(b, openDurable(b, filepath.Join(b.TempDir(), "bench.db")))
}

// BenchmarkBytesPerDevice reports the file size per device row after
// registering DRAWBRIDGE_BENCH_DEVICES devices (e.g. 100000). It is
// opt-in: unset, it skips, so that make test stays fast.
func BenchmarkBytesPerDevice(b *testing.B) {
	n, _ := strconv.Atoi(os.Getenv("DRAWBRIDGE_BENCH_DEVICES"))
	if n <= 0 {
		b.Skip("set DRAWBRIDGE_BENCH_DEVICES=100000 to measure the size of a device row")
	}
	ctx := context.Background()
	for b.Loop() {
		path := filepath.Join(b.TempDir(), "size.db")
		d := openDurable(b, path)
		base := fileSize(b, path)
		var wg sync.WaitGroup
		for w := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := w; i < n; i += 4 {
					// A key id as long as App Attest's: base64 of 32 bytes.
					dev := storetest.Sample("com.example.app", fmt.Sprintf("%043d", i))
					if err := d.RegisterDevice(ctx, dev); err != nil {
						b.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		d.Close() // checkpoints the WAL into the file
		b.ReportMetric(float64(fileSize(b, path)-base)/float64(n), "B/device")
	}
}

func fileSize(b *testing.B, path string) int64 {
	var total int64
	for _, p := range []string{path, path + "-wal"} {
		if fi, err := os.Stat(p); err == nil {
			total += fi.Size()
		}
	}
	return total
}
