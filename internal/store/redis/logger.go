package redis

import (
	"context"
	"fmt"
	"log/slog"

	goredis "github.com/redis/go-redis/v9"
)

// SetLogger sends go-redis's own messages (pool dial failures, Cluster
// and Sentinel topology changes) to l at warn level, instead of the
// standard logger on stderr, so that they are JSON lines among the
// gateway's others. go-redis has one logger per process; the last call
// wins. Its messages carry addresses, never passwords.
func SetLogger(l *slog.Logger) {
	if l == nil {
		return
	}
	goredis.SetLogger(slogAdapter{l})
}

type slogAdapter struct{ l *slog.Logger }

func (a slogAdapter) Printf(ctx context.Context, format string, v ...any) {
	a.l.WarnContext(ctx, "redis client", "message", fmt.Sprintf(format, v...))
}
