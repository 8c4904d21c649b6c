package config

// Attestation configures the attestation service: the endpoints apps call
// to exchange platform evidence for an attestation token (see
// docs/protocol.md), and the tokens it issues.
type Attestation struct {
	// Enabled serves the attestation endpoints on the gateway's listener.
	// Default: on when apps are configured.
	Enabled *bool `yaml:"enabled"`
	// Prefix is put before the endpoint paths: {prefix}/v1/attest/... and
	// {prefix}/.well-known/jwks.json. No route may match them. Default:
	// empty.
	Prefix string `yaml:"prefix"`
	// Issuer is the iss of the tokens issued. Default: drawbridge.
	Issuer string `yaml:"issuer" jsonschema:"default=drawbridge"`
	// SigningKeys are PEM private key files (Ed25519 or EC P-256). The
	// first signs; all are published in the JWKS, so that a new key can be
	// added before it signs and an old one kept until its tokens expire.
	// Empty: a key is generated at start, which only suits a single node
	// (replicas would not know each other's keys).
	SigningKeys []string `yaml:"signing_keys"`
	// TokenTTL is the default lifetime of attestation tokens. Default: 5m.
	TokenTTL Duration `yaml:"token_ttl" jsonschema:"default=5m"`
	// ChallengeTTL is how long a challenge may be used (once). Default: 2m.
	ChallengeTTL Duration `yaml:"challenge_ttl" jsonschema:"default=2m"`
	// Policies run before every attestation endpoint, like a route's
	// (rate limits, IP rules). Verifying evidence costs CPU: limit it.
	Policies []PolicySpec `yaml:"policies"`
	// External are attestation services whose tokens the attestation
	// policy also accepts (Firebase App Check, Approov), by name.
	External map[string]ExternalAttestation `yaml:"external"`
}

// App is one app and how each of its platforms proves itself. Apps are
// named in attestation policies and in the app field of attestation tokens.
type App struct {
	// Apple is the iOS app (App Attest).
	Apple *AppleApp `yaml:"apple"`
	// Android is the Android app (key attestation).
	Android *AndroidApp `yaml:"android"`
	// Play is the Android app checked with Play Integrity.
	Play *PlayApp `yaml:"play"`
	// Dev accepts development attestation, for simulators, emulators and
	// CI: only when environments includes development.
	Dev *DevApp `yaml:"dev"`
	// Environments allowed: production, development. Default: production
	// only.
	Environments []string `yaml:"environments"`
	// TokenTTL overrides attestation.token_ttl for this app.
	TokenTTL Duration `yaml:"token_ttl"`
	// MinVersion refuses older app versions (attestation.version_blocked),
	// compared as dotted numbers ("2.10.1" > "2.9").
	MinVersion string `yaml:"min_version"`
	// BlockedVersions are refused. Operators can block more at run time.
	BlockedVersions []string `yaml:"blocked_versions"`
}

// AppleApp identifies an iOS app.
type AppleApp struct {
	// TeamID is the Apple developer team id.
	TeamID string `yaml:"team_id" jsonschema:"required"`
	// BundleID is the app's bundle identifier.
	BundleID string `yaml:"bundle_id" jsonschema:"required"`
}

// AndroidApp identifies an Android app for key attestation.
type AndroidApp struct {
	// Package is the application id.
	Package string `yaml:"package" jsonschema:"required"`
	// SigningCertDigests are the SHA-256 digests of the app's signing
	// certificates (hex, colons allowed, or base64). Every digest the
	// device reports must be listed.
	SigningCertDigests []string `yaml:"signing_cert_digests" jsonschema:"required"`
	// MinVersionCode refuses older builds.
	MinVersionCode int64 `yaml:"min_version_code"`
	// AllowSoftware accepts keys not backed by a TEE or StrongBox.
	AllowSoftware bool `yaml:"allow_software"`
	// AllowUnlocked accepts devices with an unlocked bootloader.
	AllowUnlocked bool `yaml:"allow_unlocked"`
	// AllowUnverifiedBoot accepts devices whose boot was not verified.
	AllowUnverifiedBoot bool `yaml:"allow_unverified_boot"`
	// MinOSPatchLevel (YYYYMM) refuses devices with older security patches.
	MinOSPatchLevel int `yaml:"min_os_patch_level"`
	// RevocationList is Google's attestation status list (JSON), read at
	// every config load.
	RevocationList string `yaml:"revocation_list"`
}

// PlayApp identifies an Android app for Play Integrity.
type PlayApp struct {
	// Package is the application id.
	Package string `yaml:"package" jsonschema:"required"`
	// DecryptionKey is the base64 AES key from Play Console (use
	// ${file:...}).
	DecryptionKey string `yaml:"decryption_key" jsonschema:"required"`
	// VerificationKey is the base64 DER public key from Play Console.
	VerificationKey string `yaml:"verification_key" jsonschema:"required"`
	// SigningCertDigests are the app's signing certificate SHA-256 digests.
	SigningCertDigests []string `yaml:"signing_cert_digests" jsonschema:"required"`
	// DeviceIntegrity is the level required: MEETS_DEVICE_INTEGRITY
	// (default), MEETS_STRONG_INTEGRITY or MEETS_BASIC_INTEGRITY.
	DeviceIntegrity string `yaml:"device_integrity"`
	// RequireLicensed requires the Play licensing verdict LICENSED.
	RequireLicensed bool `yaml:"require_licensed"`
	// MinVersionCode refuses older builds.
	MinVersionCode int64 `yaml:"min_version_code"`
}

// DevApp accepts development attestation.
type DevApp struct {
	// CAFiles are development CA certificates (PEM) made with
	// `drawbridge attestation dev-ca`.
	CAFiles []string `yaml:"ca_files" jsonschema:"required"`
}

// ExternalAttestation is another attestation service whose tokens are
// accepted.
type ExternalAttestation struct {
	// Type is firebase_app_check or approov.
	Type string `yaml:"type" jsonschema:"enum=firebase_app_check,enum=approov,required"`
	// ProjectNumber is the Firebase project number (firebase_app_check):
	// the token's issuer and audience name it.
	ProjectNumber string `yaml:"project_number"`
	// JWKSURL overrides Firebase's JWKS URL (tests).
	JWKSURL string `yaml:"jwks_url"`
	// Apps maps the external service's app ids (Firebase app ids, the
	// token's sub) to apps of this config. For Approov, whose tokens do not
	// name the app, give one entry with the key "*".
	Apps map[string]string `yaml:"apps" jsonschema:"required"`
	// Secret is the Approov account secret, base64 (use ${file:...}).
	Secret string `yaml:"secret"`
	// BindAuthorization requires Approov's pay claim to match the
	// request's Authorization header.
	BindAuthorization bool `yaml:"bind_authorization"`
}

// AttestationPolicy requires a valid attestation token for the route's
// apps.
type AttestationPolicy struct {
	// Apps that may call the route.
	Apps []string `yaml:"apps" jsonschema:"required"`
	// Header carries the token. Default: Attestation-Token.
	Header string `yaml:"header"`
	// Leeway tolerates clock skew in exp. Default: 10s.
	Leeway *Duration `yaml:"leeway" jsonschema:"default=10s"`
	// BindAuthorization requires the token's uth claim to be the hash of
	// the request's Authorization header, so that a token lifted from one
	// user's session is useless in another's.
	BindAuthorization bool `yaml:"bind_authorization"`
	// External names attestation.external services whose tokens are also
	// accepted.
	External []string `yaml:"external"`
	// JWKSURL verifies tokens of a service running elsewhere; empty uses
	// this process's attestation keys.
	JWKSURL string `yaml:"jwks_url"`
}
