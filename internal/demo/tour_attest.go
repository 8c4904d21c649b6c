package demo

import "path/filepath"

// attestationSteps show app attestation (docs/protocol.md): the whole
// path with `drawbridge client`, then each refusal with curl and tokens
// the demo obtained at start.
func attestationSteps(base string, s Setup) []Step {
	alice := "-H 'Authorization: Bearer " + s.Tokens.Alice + "'"
	attest := func(t string) string { return "-H 'Attestation-Token: " + t + "'" }
	device := ShellQuote(filepath.Join(s.Dir, DeviceDir))
	cli := s.Drawbridge + " client --gateway " + base
	order := `-X POST -d '{"product_id":3,"quantity":2}'`
	curlOrder := "-H 'Content-Type: application/json' -d '{\"product_id\":3,\"quantity\":2}'"
	exchange := "curl -s -H 'Content-Type: application/json' -d @" + ShellQuote(filepath.Join(s.Dir, ExchangeFile)) + " " + base + "/v1/attest/dev"
	return []Step{
		{
			Section:  "What is calling: app attestation",
			Say:      "The shop app attests with the development attestor, gets a token bound to its key, and reads Alice's favourites with signed requests (add -v to see them).",
			Cmd:      cli + " --app shop --dev-device " + device + " --bearer " + s.Tokens.Alice + " /api/favourites",
			Status:   200,
			Contains: `"user":"alice"`,
			Why:      "challenge; client data {challenge, jkt of the key}; the device key's signature over its hash; a token whose cnf names the key. Then the request carries Attestation-Token and an RFC 9421 signature by that key over the method, authority, path, token and Authorization header.",
		},
		{
			Say:      "Placing an order takes a DPoP proof by the same key instead.",
			Cmd:      cli + " --app shop --dev-device " + device + " --proof dpop --bearer " + s.Tokens.Alice + " " + order + " /api/orders",
			Status:   201,
			Contains: `"product_id":3`,
			Why:      "route place-order requires the attestation token, a DPoP proof (RFC 9449) by the key it binds, made for this method and URL and accepted once, and Alice's orders:write scope.",
		},
		{
			Say:    "Alice's token alone does not say which app is calling.",
			Cmd:    "curl -s " + alice + " " + base + "/api/favourites",
			Status: 401,
			Reason: "attestation.missing",
			Why:    "copied out of the app, a user token would work from any script; the route also wants proof that the genuine app calls.",
		},
		{
			Say:    "An attestation token lives minutes; this one expired an hour ago.",
			Cmd:    "curl -s " + attest(s.App.Expired) + " " + alice + " " + base + "/api/favourites",
			Status: 401,
			Reason: "attestation.expired",
			Why:    "the client refreshes at 80% of the lifetime, and on this answer attests again and retries once.",
		},
		{
			Say:    "A genuine token of the shop's kiosk app is no good on the phone app's API.",
			Cmd:    "curl -s " + attest(s.App.Kiosk) + " " + alice + " " + base + "/api/favourites",
			Status: 403,
			Reason: "attestation.wrong_app",
			Why:    "route favourites serves app shop only; the token says app kiosk.",
		},
		{
			Say:      "A device's evidence over a fresh challenge, which the demo prepared, earns a token once.",
			Cmd:      exchange,
			Status:   200,
			Contains: `"token"`,
			Why:      "the gateway consumed the challenge, checked the device certificate against the development CA and the signature over the client data hash, and registered the install.",
		},
		{
			Say:    "The same evidence, replayed, earns nothing.",
			Cmd:    exchange,
			Status: 400,
			Reason: "attestation.challenge_invalid",
			Why:    "a challenge is used once, for one app, within its lifetime: evidence captured off the wire cannot be replayed.",
		},
		{
			Say:    "The demo revoked an install at start (drawbridge admin revoke-device shop INSTALL); its token is refused.",
			Cmd:    "curl -s " + attest(s.App.Revoked) + " " + alice + " " + base + "/api/favourites",
			Status: 403,
			Reason: "attestation.device_revoked",
			Why:    "a revocation applies at once, to tokens already issued and to every later exchange of that install.",
		},
		{
			Say:    "The demo blocked version " + BlockedVersion + " at start (drawbridge admin block-version shop " + BlockedVersion + ").",
			Cmd:    "curl -s " + attest(s.App.OldVersion) + " " + alice + " " + base + "/api/favourites",
			Status: 403,
			Reason: "attestation.version_blocked",
			Why:    "the token's ver is blocked: the app should ask the user to update.",
		},
		{
			Say:    "A valid token copied off the wire, sent without a signature, is refused.",
			Cmd:    "curl -s " + attest(s.App.Valid) + " " + alice + " " + base + "/api/favourites",
			Status: 401,
			Reason: "signature.missing",
			Why:    "the token is bound to the app's key (cnf.jkt): the route requires a signature by that key, which never leaves the device.",
		},
		{
			Say:    "Signed with a key of the thief's own (the client makes a fresh one), it is refused too.",
			Cmd:    cli + " --attestation-token " + s.App.Valid + " --bearer " + s.Tokens.Alice + " /api/favourites",
			Status: 401,
			Reason: "signature.key_not_bound",
			Why:    "the only key the gateway accepts is the one the token binds.",
		},
		{
			Say:    "The same token without a DPoP proof cannot place an order...",
			Cmd:    "curl -s " + attest(s.App.Valid) + " " + alice + " " + curlOrder + " " + base + "/api/orders",
			Status: 401,
			Reason: "dpop.missing",
			Why:    "route place-order requires a DPoP proof; the answer carries WWW-Authenticate: DPoP.",
		},
		{
			Say:    "...nor with another key's DPoP proof.",
			Cmd:    cli + " --attestation-token " + s.App.Valid + " --proof dpop --bearer " + s.Tokens.Alice + " " + order + " /api/orders",
			Status: 401,
			Reason: "dpop.key_mismatch",
			Why:    "the proof is valid, but its key is not the one the token's cnf.jkt names.",
		},
	}
}
