package service

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/drawbridge-gw/drawbridge/internal/attest/androidkey"
	"github.com/drawbridge-gw/drawbridge/internal/attest/appattest"
	"github.com/drawbridge-gw/drawbridge/internal/attest/devkey"
	"github.com/drawbridge-gw/drawbridge/internal/attest/playintegrity"
)

// App is a compiled app policy.
type App struct {
	// ID is the app's id in the config.
	ID string
	// Apple, when set, accepts App Attest with this expectation's TeamID,
	// BundleID, Roots and ReceiptRoots (nil roots: Apple's); the rest is
	// filled per request.
	Apple *appattest.Expect
	// Android, when set, accepts Android key attestation under this policy.
	Android *androidkey.Policy
	// Play, when set, accepts Play Integrity verdicts under this compiled
	// policy (the app's Play Console keys).
	Play *playintegrity.Verifier
	// Dev, when set, accepts development attestation under this compiled
	// policy (the app's development CAs).
	Dev *devkey.Verifier
	// Environments allowed (production, development). If empty, only
	// production.
	Environments []string
	// TokenTTL is the lifetime of the app's tokens. If zero,
	// DefaultTokenTTL.
	TokenTTL time.Duration
	// MinVersion and Blocked are the config's version rules.
	MinVersion string
	Blocked    []string
}

func (a *App) allows(env string) bool {
	if len(a.Environments) == 0 {
		return env == "production"
	}
	return slices.Contains(a.Environments, env)
}

// VersionAllowed applies the version rules of the config and of the
// operators' run-time blocks. An app without a version passes only when
// no minimum is set.
func VersionAllowed(min string, blocked []string, runtime []string, ver string) bool {
	if ver == "" {
		return min == ""
	}
	if slices.Contains(blocked, ver) || slices.Contains(runtime, ver) {
		return false
	}
	return min == "" || CompareVersions(ver, min) >= 0
}

// CompareVersions compares dotted versions numerically ("2.10" > "2.9");
// a missing part counts as 0, and a part that is not a number compares as
// lower than any number, so that "2.0-beta" never passes a minimum of 2.0.
func CompareVersions(a, b string) int {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := range max(len(as), len(bs)) {
		x, y := part(as, i), part(bs, i)
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
	}
	return 0
}

func part(p []string, i int) int64 {
	if i >= len(p) {
		return 0
	}
	n, err := strconv.ParseInt(p[i], 10, 64)
	if err != nil || n < 0 {
		return -1
	}
	return n
}
