package gateway

import (
	"crypto"
	"crypto/x509"
	"reflect"
	"strings"
)

// SetAttestRoots makes the apps of the config in force trust test roots
// instead of Apple's and Google's, for tests that exchange evidence made
// by appattesttest and androidkeytest. It is a test hook rather than a
// config field on purpose: a config that can name the roots evidence
// chains to is one an attacker who can edit it would love, and no
// deployment needs it. Call it after Load and before any exchange; a
// reload drops it.
func SetAttestRoots(g *Gateway, apple, receipts *x509.CertPool, android []crypto.PublicKey) {
	c := g.cur.Load()
	if c == nil || c.attest == nil {
		panic("SetAttestRoots: the attestation service is not running")
	}
	for _, app := range c.attest.apps {
		if app.Apple != nil {
			app.Apple.Roots, app.Apple.ReceiptRoots = apple, receipts
		}
		if app.Android != nil {
			app.Android.TrustedRoots = android
		}
	}
}

// AttestPaths are the attestation endpoints' paths below the prefix.
var AttestPaths = attestPaths

// AttestRequestFields are the JSON members the exchange endpoints accept.
func AttestRequestFields() []string {
	var out []string
	t := reflect.TypeOf(attestRequest{})
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		out = append(out, name)
	}
	return out
}
