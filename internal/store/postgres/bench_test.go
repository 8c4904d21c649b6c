package postgres

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"
	"testing"

	"github.com/drawbridge-gw/drawbridge/internal/store/storetest"
	"github.com/drawbridge-gw/drawbridge/internal/testenv"
)

func BenchmarkDurable(b *testing.B) {
	storetest.BenchmarkDurable(b, open(b, testenv.Postgres(b)))
}

// BenchmarkBytesPerDevice reports pg_total_relation_size of the devices
// table (heap, indexes, TOAST) per row after registering
// DRAWBRIDGE_BENCH_DEVICES devices (e.g. 100000). It is opt-in: unset, it
// skips, so that make test stays fast.
func BenchmarkBytesPerDevice(b *testing.B) {
	n, _ := strconv.Atoi(os.Getenv("DRAWBRIDGE_BENCH_DEVICES"))
	if n <= 0 {
		b.Skip("set DRAWBRIDGE_BENCH_DEVICES=100000 to measure the size of a device row")
	}
	ctx := context.Background()
	for b.Loop() {
		d := open(b, testenv.Postgres(b))
		var wg sync.WaitGroup
		for w := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := w; i < n; i += 8 {
					dev := storetest.Sample("com.example.app", fmt.Sprintf("%043d", i))
					if err := d.RegisterDevice(ctx, dev); err != nil {
						b.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		var size int64
		if _, err := d.pool.Exec(ctx, `VACUUM ANALYZE drawbridge.devices`); err != nil {
			b.Fatal(err)
		}
		if err := d.pool.QueryRow(ctx, `SELECT pg_total_relation_size('drawbridge.devices')`).Scan(&size); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(size)/float64(n), "B/device")
	}
}
