// Package playintegrity verifies Google Play Integrity integrity tokens
// locally, with the app's own keys from Play Console, without calling
// Google's decodeIntegrityToken endpoint: the gateway then needs no
// Google credentials and no network path to Google, and a verdict costs
// a decryption and a signature check instead of a round trip.
//
// References: "Integrity verdicts"
// (https://developer.android.com/google/play/integrity/verdicts) for the
// payload; the Play Integrity client reference
// (https://developer.android.com/reference/unity/class/Google/Play/Integrity/IntegrityManager)
// for the token format: "a nested JSON Web Token (JWT), that is JWE of
// JWS. JWE uses A256KW as a key wrapping algorithm and A256GCM as a
// content encryption algorithm. JWS uses ES256 as a signing algorithm";
// the Play Integrity API reference (AppIntegrity: certificateSha256Digest
// is "base64 web-safe encoded", packageName and the digests are "set iff
// app_recognition_verdict != UNEVALUATED"); "Additional tools" for
// testingDetails.isTestingResponse.
//
// # The token
//
// Google documents local decryption for classic requests, with response
// encryption keys the developer chose to manage in Play Console; tokens
// of standard requests are decrypted by Google's servers, whose decoded
// payload has the same format. The checks read requestHash as well as
// nonce, so the same rules hold for both. The app's decryption key is a
// 32-byte AES key and its verification key an ECDSA P-256 public key,
// both shown base64 in Play Console (ParseDecryptionKey,
// ParseVerificationKey). The JOSE work is the token core's
// (internal/token): strict base64url and JSON, no key ever taken from a
// header, and algorithm allow-lists that hold exactly Google's three
// algorithms. Nothing but a compact JWE around a compact JWS is read.
//
// # Why the checks are what they are
//
// A verdict is Google's statement about one request: the checks on
// requestDetails come first, as Google asks, because a genuine verdict
// for another request, app or moment proves nothing here.
//
//   - The package: requestPackageName "might be spoofed in the middle of
//     the request" (Google), so appIntegrity.packageName must agree.
//   - The binding: the app requests the token with nonce (classic) or
//     requestHash (standard) set to base64url(client_data_hash)
//     (docs/protocol.md §2). Both are compared the same way: the string is
//     decoded (the unpadded 43 characters the protocol documents, or the
//     44 with one "=" that Android's Base64.URL_SAFE | NO_WRAP produces)
//     and the 32 bytes compared in constant time. A payload with both
//     fields, or neither, is refused. The hash covers the challenge and
//     the request-signing key, so one check proves freshness and binds
//     the key.
//   - Freshness: timestampMillis within Policy.MaxAge (two minutes, the
//     challenge's own lifetime) before the verification time, and not
//     more than Policy.FutureSkew after it.
//   - Test responses (testingDetails) are verdicts the developer chose
//     for a tester account in Play Console: refused unless allowed.
//   - The app: PLAY_RECOGNIZED (UNRECOGNIZED_VERSION only when allowed),
//     every listed signing-certificate digest one of the app's, the
//     version code at least the minimum. These are always checked: a
//     device verdict alone ("not rooted") says nothing about which app
//     asks, and attestation is about the app.
//   - The device: deviceRecognitionVerdict carries the policy's label
//     (MEETS_DEVICE_INTEGRITY by default; MEETS_STRONG_INTEGRITY on
//     request; MEETS_BASIC_INTEGRITY only when the policy names it;
//     MEETS_VIRTUAL_INTEGRITY only when emulators are allowed).
//   - Licensing: LICENSED, when the policy requires it.
//
// # Parsing
//
// The payload is decoded into maps by a strict reader: valid UTF-8, no
// member named twice at any depth (RFC 8725 §2.6), no trailing data,
// nesting of at most 16. Members the checks read must have the type
// Google documents; members they do not read are allowed, as Google adds
// signals over time. int64 fields are read from decimal strings, as
// Google writes them, or from JSON integers. Labels must be upper-case
// identifiers: they are copied into Facts and logs.
//
// # Time
//
// Verify never reads the clock: the verification time is a parameter, so
// a captured token can be checked as of the moment it was made, and is
// refused at any other.
//
// # The CLI's input
//
// `drawbridge attestation verify --platform play --input FILE` reads one
// JSON object (unknown members are refused, so that a misspelt policy
// field is not silently ignored):
//
//	{
//	  "integrity_token":  "<the token, as the app received it>",
//	  "decryption_key":   "<base64 AES key, as Play Console shows it>",
//	  "verification_key": "<base64 DER public key, as Play Console shows it>",
//	  "package_name":     "com.example.shop",
//	  "signing_cert_digests": ["<SHA-256: hex, colons allowed, or base64>"],
//	  "client_data":      "<base64url, as the app sends it>",
//	  "min_version_code": 7,
//	  "device_integrity": "MEETS_DEVICE_INTEGRITY",
//	  "require_licensed": false,
//	  "allow_unrecognized_version": false,
//	  "max_age":          "2m"
//	}
//
// Instead of client_data, client_data_utf8 (the client data as text) or
// client_data_hash_b64 (its SHA-256, base64) may be given; when the
// client data is given and names a jkt, it is the expected bound key.
// The policy members are optional and default as in Policy; flags relax
// them (--allow-unrecognized-version, --allow-basic-integrity,
// --allow-virtual, --allow-unlicensed, --allow-testing-response,
// --max-age). The app, signing_key and app_version members of a request
// body pasted into the file are read and ignored. The file holds the
// decryption key: keep it private.
package playintegrity
