package gateway

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
)

// Denial is a policy's refusal of a request. The Reason is a stable code
// "layer.reason" that clients and operators can rely on; the HTTP status
// and the public text come from the reason table in this file, so that a
// layer never chooses a status code itself.
type Denial struct {
	Reason string
	// Header holds extra response fields (Retry-After, WWW-Authenticate).
	Header http.Header
	// Cause is logged with the decision, never sent to the client.
	Cause error
}

func (d *Denial) Error() string {
	if d.Cause != nil {
		return "denied: " + d.Reason + ": " + d.Cause.Error()
	}
	return "denied: " + d.Reason
}

// Deny returns a Denial with the given reason code.
func Deny(reason string) *Denial { return &Denial{Reason: reason} }

// Reasoner is implemented by domain errors (token, attestation, ...) that
// carry a stable reason code. The gateway turns them into denials.
type Reasoner interface{ Reason() string }

// reasonInfo is the public face of a reason code.
type reasonInfo struct {
	status int
	detail string // a fixed sentence for the client; never internal detail
}

// reasonTable maps every reason code the gateway can answer with to its
// status and public text. It is the one place where reasons become HTTP.
var reasonTable = map[string]reasonInfo{
	// Request framing (internal/httpwire) and paths (internal/urlpath).
	"framing.bad_request_line":      {400, "The request line is malformed."},
	"framing.uri_too_long":          {414, "The request target is too long."},
	"framing.headers_too_large":     {431, "The request header section is too large."},
	"framing.bad_header":            {400, "A request header field is malformed."},
	"framing.bare_lf":               {400, "Lines must end with CRLF."},
	"framing.bad_host":              {400, "The Host header is missing, repeated or malformed."},
	"framing.cl_te":                 {400, "A request must not carry both Content-Length and Transfer-Encoding."},
	"framing.bad_content_length":    {400, "The Content-Length header is malformed or repeated."},
	"framing.bad_transfer_encoding": {400, "Only Transfer-Encoding: chunked is accepted."},
	"framing.bad_chunk":             {400, "The chunked request body is malformed."},
	"framing.h2c_upgrade":           {400, "Upgrading to h2c is not allowed."},
	"framing.bad_connection":        {400, "The Connection header names a field that cannot be hop-by-hop."},
	"framing.method_not_allowed":    {405, "This request method is not accepted."},
	"framing.bad_version":           {505, "Only HTTP/1.1 and HTTP/1.0 are accepted here."},
	"path.bad_encoding":             {400, "The request path has malformed or double percent-encoding."},
	"path.encoded_separator":        {400, "The request path contains an encoded or backslash separator."},
	"path.control_character":        {400, "The request path contains control characters or spaces."},
	"path.non_ascii":                {400, "The request path contains raw non-ASCII bytes."},
	"path.bad_utf8":                 {400, "The request path decodes to invalid UTF-8."},
	"path.semicolon":                {400, "Path parameters (;) are not accepted."},
	"path.above_root":               {400, "The request path climbs above the root."},
	"path.not_absolute":             {400, "The request target must be an absolute path."},
	"path.fragment":                 {400, "The request target must not contain a fragment."},

	// Gateway-level request checks.
	"route.not_found":             {404, "No route serves this path."},
	"route.method_not_allowed":    {405, "This method is not allowed on this route."},
	"request.body_timeout":        {408, "The request body did not arrive in time."},
	"request.body_incomplete":     {400, "The request body ended early."},
	"request.body_too_large":      {413, "The request body is larger than this route accepts."},
	"request.upgrade_not_allowed": {400, "Protocol upgrades are not allowed on this route."},
	"upstream.unavailable":        {502, "The upstream service could not be reached."},
	"upstream.timeout":            {504, "The upstream service did not answer in time."},
	"gateway.internal":            {500, "The gateway could not process this request."},
	"gateway.not_ready":           {503, "The gateway is not ready to serve."},

	// Attestation: the service's endpoints and the attestation layer.
	"attestation.missing":                 {401, "An attestation token is required: attest the app and send its token."},
	"attestation.invalid":                 {401, "The attestation token is not valid: attest again."},
	"attestation.expired":                 {401, "The attestation token has expired: refresh it and retry."},
	"attestation.wrong_app":               {403, "The attestation token is for another app."},
	"attestation.version_blocked":         {403, "This version of the app is no longer supported: please update it."},
	"attestation.device_revoked":          {403, "This app install has been revoked."},
	"attestation.token_revoked":           {401, "The attestation token was revoked: attest again."},
	"attestation.binding_mismatch":        {401, "The attestation token belongs to another session."},
	"attestation.unavailable":             {503, "Attestation state is unavailable: retry later."},
	"attestation.unknown_app":             {400, "Unknown app."},
	"attestation.platform_not_allowed":    {403, "This app does not accept attestation from this platform."},
	"attestation.bad_request":             {400, "The attestation request is malformed (see docs/protocol.md)."},
	"attestation.key_mismatch":            {400, "The client data names another signing key."},
	"attestation.challenge_invalid":       {400, "The challenge is unknown, expired or already used: fetch a new one."},
	"attestation.environment_not_allowed": {403, "This app does not accept evidence from this environment."},
	"attestation.unknown_device":          {403, "This key was never attested: attest it first."},

	// First policies.
	"ip.denied":             {403, "Requests from this network are not allowed on this route."},
	"useragent.denied":      {403, "This client is not allowed on this route."},
	"useragent.missing":     {403, "A User-Agent header is required on this route."},
	"headers.missing":       {400, "A required request header is missing."},
	"headers.forbidden":     {400, "The request carries a header this route does not accept."},
	"cors.origin_denied":    {403, "This origin is not allowed to call this API."},
	"cors.preflight_denied": {403, "The CORS preflight request is not allowed."},

	// Bearer tokens (policy_jwt.go; the token core's reasons, token.X
	// becoming jwt.X). 401 carries a WWW-Authenticate: Bearer challenge.
	"jwt.missing":             {401, "A bearer token is required."},
	"jwt.bad_request":         {400, "Send one bearer token, in one way."},
	"jwt.insufficient_scope":  {403, "The token does not grant the scope this route requires."},
	"jwt.claim_mismatch":      {403, "The token's claims do not allow this request."},
	"jwt.keys_unavailable":    {503, "The token issuer's keys are not available yet."},
	"jwt.too_large":           {401, "The bearer token is too large."},
	"jwt.json_serialization":  {401, "The bearer token must use the compact serialisation."},
	"jwt.malformed":           {401, "The bearer token is malformed."},
	"jwt.jwe_not_accepted":    {401, "Encrypted tokens are not accepted here."},
	"jwt.bad_encoding":        {401, "The bearer token is not strict base64url."},
	"jwt.duplicate_key":       {401, "The bearer token repeats a JSON member."},
	"jwt.alg_none":            {401, "Unsigned tokens are never accepted."},
	"jwt.crit_unsupported":    {401, "The bearer token requires an unsupported extension."},
	"jwt.header_injection":    {401, "The bearer token carries its own key or key URL."},
	"jwt.bad_kid":             {401, "The bearer token's key ID is not acceptable."},
	"jwt.jwe_alg_not_allowed": {401, "The token's encryption algorithm is not accepted."},
	"jwt.jwe_zip":             {401, "Compressed encrypted tokens are not accepted."},
	"jwt.jwe_p2c":             {401, "The token's PBES2 iteration count is not accepted."},
	"jwt.jwe_bad_epk":         {401, "The token's ephemeral key is not valid."},
	"jwt.decrypt":             {401, "The encrypted token could not be decrypted."},
	"jwt.jwe_unsigned":        {401, "An encrypted token must contain a signed token."},
	"jwt.bad_claims":          {401, "The bearer token's claims are malformed."},
	"jwt.issuer":              {401, "The bearer token's issuer is not trusted."},
	"jwt.alg_not_allowed":     {401, "The bearer token's algorithm is not accepted."},
	"jwt.unknown_kid":         {401, "The bearer token's key is not known."},
	"jwt.key_mismatch":        {401, "The bearer token's algorithm does not match its key."},
	"jwt.invalid_signature":   {401, "The bearer token's signature is not valid."},
	"jwt.type":                {401, "The bearer token is not of the expected type."},
	"jwt.missing_exp":         {401, "The bearer token has no expiry."},
	"jwt.expired":             {401, "The bearer token has expired."},
	"jwt.not_yet_valid":       {401, "The bearer token is not valid yet."},
	"jwt.too_old":             {401, "The bearer token was issued too long ago."},
	"jwt.audience":            {401, "The bearer token is not meant for this API."},
	"jwt.missing_claim":       {401, "The bearer token lacks a required claim."},
	"jwt.dpop_bound":          {401, "This token is bound to a DPoP key: send it with the DPoP scheme and a proof."},

	// Request signatures (policy_signature.go; internal/httpsig's codes).
	// Refusals that say what to sign carry Accept-Signature (RFC 9421 §5.1).
	"signature.missing":               {401, "This route requires an HTTP message signature (RFC 9421)."},
	"signature.too_large":             {401, "The signature fields are larger than accepted."},
	"signature.malformed_input":       {401, "The Signature-Input field is malformed."},
	"signature.malformed_signature":   {401, "The Signature field is malformed."},
	"signature.label_not_found":       {401, "The signature this route checks is not in the request."},
	"signature.covers_nothing":        {401, "A signature must cover the request's components."},
	"signature.missing_component":     {401, "The signature does not cover every component this route requires."},
	"signature.tag_mismatch":          {401, "The signature is not meant for this API (tag)."},
	"signature.missing_created":       {401, "The signature has no created time."},
	"signature.created_in_future":     {401, "The signature's created time is in the future."},
	"signature.expired":               {401, "The signature has expired."},
	"signature.too_old":               {401, "The signature was created too long ago."},
	"signature.missing_nonce":         {401, "The signature must carry a nonce."},
	"signature.unknown_key":           {401, "The signature's key is not known."},
	"signature.key_not_bound":         {401, "The signature must be made with the app install's bound key."},
	"signature.alg_not_allowed":       {401, "The signature's algorithm is not accepted."},
	"signature.alg_mismatch":          {401, "The signature's alg does not match its key."},
	"signature.component_unavailable": {401, "A component the signature covers is not in the request."},
	"signature.invalid":               {401, "The signature does not verify."},
	"signature.body_too_large":        {413, "The body is too large to check its digest."},
	"signature.malformed_digest":      {401, "The Content-Digest field is malformed."},
	"signature.digest_missing":        {401, "A request with a body must carry its Content-Digest (sha-256 or sha-512)."},
	"signature.digest_mismatch":       {401, "The Content-Digest does not match the body."},
	"signature.replayed_nonce":        {401, "The signature's nonce was used before."},
	"signature.unavailable":           {503, "Signatures cannot be checked right now: retry later."},

	// DPoP proofs (policy_dpop.go; internal/dpop's codes). 401 carries a
	// WWW-Authenticate: DPoP challenge (RFC 9449 §7.1); use_nonce also a
	// DPoP-Nonce to retry with.
	"dpop.missing":           {401, "This route requires a DPoP proof (RFC 9449)."},
	"dpop.too_large":         {401, "The DPoP proof is too large."},
	"dpop.malformed":         {401, "The DPoP proof is malformed; send exactly one."},
	"dpop.bad_type":          {401, "The DPoP proof's typ must be dpop+jwt."},
	"dpop.alg_not_allowed":   {401, "The DPoP proof's algorithm is not accepted."},
	"dpop.bad_key":           {401, "The DPoP proof must carry a public key in jwk, and only there."},
	"dpop.invalid_signature": {401, "The DPoP proof's signature does not verify."},
	"dpop.missing_claim":     {401, "The DPoP proof lacks jti, htm, htu or iat."},
	"dpop.method_mismatch":   {401, "The DPoP proof was made for another method."},
	"dpop.uri_mismatch":      {401, "The DPoP proof was made for another URI."},
	"dpop.use_nonce":         {401, "Make a new proof with the nonce in DPoP-Nonce."},
	"dpop.iat_in_future":     {401, "The DPoP proof's iat is in the future."},
	"dpop.too_old":           {401, "The DPoP proof is too old: make a new one."},
	"dpop.ath_mismatch":      {401, "The DPoP proof's ath is not the hash of the access token."},
	"dpop.key_mismatch":      {401, "The DPoP proof's key is not the key the token is bound to."},
	"dpop.unbound":           {401, "No token of this request is bound to a DPoP key."},
	"dpop.replayed":          {401, "The DPoP proof was used before: make a new one."},
	"dpop.unavailable":       {503, "DPoP proofs cannot be checked right now: retry later."},

	// API keys (policy_apikey.go; internal/apikey's codes).
	"apikey.missing":            {401, "An API key is required."},
	"apikey.bad_request":        {400, "Send one API key, in one way."},
	"apikey.invalid":            {401, "The API key is not valid."},
	"apikey.expired":            {401, "The API key has expired."},
	"apikey.revoked":            {401, "The API key has been revoked."},
	"apikey.insufficient_scope": {403, "The API key does not grant this route's scopes."},
	"apikey.unavailable":        {503, "API keys cannot be checked right now: retry later."},

	// Rate limits (policy_ratelimit.go). 429 carries Retry-After.
	"ratelimit.exceeded":    {429, "Too many requests: retry after the time in Retry-After."},
	"ratelimit.unavailable": {503, "Rate limits cannot be checked right now: retry later."},
}

// familyTable gives the status and text of reason families whose codes
// come from domain packages: the first failing check of an evidence format
// (appattest.nonce_mismatch, androidkey.unverified_boot, ...).
var familyTable = map[string]reasonInfo{
	"appattest":     {403, "The App Attest evidence was refused."},
	"androidkey":    {403, "The Android key attestation was refused."},
	"playintegrity": {403, "The Play Integrity verdict was refused."},
	"devkey":        {403, "The development attestation was refused."},
}

func lookupReason(reason string) (reasonInfo, bool) {
	if ri, ok := reasonTable[reason]; ok {
		return ri, true
	}
	if i := strings.IndexByte(reason, '.'); i > 0 {
		if ri, ok := familyTable[reason[:i]]; ok {
			return ri, true
		}
	}
	return reasonInfo{}, false
}

// reasonStatus is the status of a reason, 403 for codes missing from the
// tables (a refusal is never turned into success by a typo).
func reasonStatus(reason string) int {
	if ri, ok := lookupReason(reason); ok {
		return ri.status
	}
	return http.StatusForbidden
}

func reasonDetail(reason string) string {
	if ri, ok := lookupReason(reason); ok {
		return ri.detail
	}
	return "The request was refused."
}

// Reasons returns every reason code the gateway declares.
func Reasons() []string {
	out := make([]string, 0, len(reasonTable))
	for r := range reasonTable {
		out = append(out, r)
	}
	return out
}

// ProblemTypePrefix prefixes a reason code to form an RFC 9457 problem
// type URI; the code alone lets clients branch on the outcome.
const ProblemTypePrefix = "urn:drawbridge:problem:"

// asDenial turns any error a policy returns into a Denial; unknown errors
// become gateway.internal, so that a failing layer fails closed.
func asDenial(err error) *Denial {
	var d *Denial
	if errors.As(err, &d) {
		return d
	}
	var r Reasoner
	if errors.As(err, &r) {
		return &Denial{Reason: r.Reason(), Cause: err}
	}
	return &Denial{Reason: "gateway.internal", Cause: err}
}

// writeProblem renders an RFC 9457 application/problem+json body.
func writeProblem(w http.ResponseWriter, d *Denial, requestID string, extra http.Header) int {
	status := reasonStatus(d.Reason)
	h := w.Header()
	for k, vs := range extra {
		h[k] = vs
	}
	for k, vs := range d.Header {
		h[k] = vs
	}
	h.Set("Content-Type", "application/problem+json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	var b strings.Builder
	b.Grow(256)
	b.WriteString(`{"type":"`)
	b.WriteString(ProblemTypePrefix)
	b.WriteString(d.Reason)
	b.WriteString(`","title":"`)
	b.WriteString(http.StatusText(status))
	b.WriteString(`","status":`)
	b.WriteString(strconv.Itoa(status))
	b.WriteString(`,"detail":`)
	b.WriteString(strconv.Quote(reasonDetail(d.Reason)))
	b.WriteString(`,"reason":"`)
	b.WriteString(d.Reason)
	b.WriteString(`"`)
	if requestID != "" {
		b.WriteString(`,"request_id":"`)
		b.WriteString(requestID)
		b.WriteString(`"`)
	}
	b.WriteString("}\n")
	h.Set("Content-Length", strconv.Itoa(b.Len()))
	w.WriteHeader(status)
	_, _ = w.Write([]byte(b.String()))
	return status
}
