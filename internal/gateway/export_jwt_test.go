package gateway

// JWTReason is the mapping of the token core's reasons to the gateway's.
var JWTReason = jwtReason

// KeySourcesRunning is the number of remote key sets the gateway holds.
func KeySourcesRunning(g *Gateway) int { return g.keySources.running() }
