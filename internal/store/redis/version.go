package redis

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	goredis "github.com/redis/go-redis/v9"

	"github.com/drawbridge-gw/drawbridge/internal/store/internal/backend"
)

// minMajor and minMinor: GETDEL, which makes Take atomic, arrived in
// Redis 6.2.
const minMajor, minMinor = 6, 2

// checkVersions asks every server that holds keys (each Cluster master,
// or the one server or Sentinel master) for its version.
func checkVersions(ctx context.Context, c goredis.UniversalClient) error {
	check := func(ctx context.Context, addr string, cmd goredis.Cmdable) error {
		info, err := cmd.Info(ctx, "server").Result()
		if err != nil {
			return backend.Unavailable("redis: connecting to "+addr, err)
		}
		return checkVersion(addr, info)
	}
	if cc, ok := c.(*goredis.ClusterClient); ok {
		return cc.ForEachShard(ctx, func(ctx context.Context, shard *goredis.Client) error {
			return check(ctx, shard.Options().Addr, shard)
		})
	}
	addr := "the server"
	if cl, ok := c.(*goredis.Client); ok {
		addr = cl.Options().Addr
	}
	return check(ctx, addr, c)
}

// checkVersion reads redis_version from INFO server's text.
func checkVersion(addr, info string) error {
	var v string
	for _, line := range strings.Split(info, "\n") {
		if rest, ok := strings.CutPrefix(line, "redis_version:"); ok {
			v = strings.TrimSpace(rest)
			break
		}
	}
	parts := strings.SplitN(v, ".", 3)
	major, err1 := strconv.Atoi(parts[0])
	minor, err2 := 0, error(nil)
	if len(parts) > 1 {
		minor, err2 = strconv.Atoi(parts[1])
	}
	switch {
	case v == "" || err1 != nil || err2 != nil:
		return fmt.Errorf("redis: %s did not report a version drawbridge can read (%q); it needs Redis %d.%d or newer", addr, v, minMajor, minMinor)
	case major < minMajor || major == minMajor && minor < minMinor:
		return fmt.Errorf("redis: %s runs Redis %s; drawbridge needs %d.%d or newer (GETDEL makes Take atomic)", addr, v, minMajor, minMinor)
	}
	return nil
}
