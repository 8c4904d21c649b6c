package redis_test

import (
	"fmt"

	"github.com/drawbridge-gw/drawbridge/internal/store/redis"
)

// Keys that one Lua script touches together share a hash tag, so that
// Redis Cluster keeps them in one slot.
func ExampleHashTagged() {
	for _, k := range redis.HashTagged("drawbridge:", "ip:203.0.113.7", "tokens", "stamp") {
		fmt.Println(k)
	}
	// Output:
	// drawbridge:{ip:203.0.113.7}tokens
	// drawbridge:{ip:203.0.113.7}stamp
}
