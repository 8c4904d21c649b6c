// Package androidkey verifies Android key attestation: the certificate
// chain Android Keystore returns for a key generated with an attestation
// challenge, whose leaf carries a KeyDescription extension saying where
// the key lives, on what device state, for which app.
//
// References: "Verify hardware-backed key pairs with key attestation"
// (https://developer.android.com/privacy-and-security/security-key-attestation),
// "Key and ID attestation" with the extension schema
// (https://source.android.com/docs/security/features/keystore/attestation),
// and the KeyMint AIDL (hardware/interfaces/security/keymint/aidl:
// KeyCreationResult.aidl holds the ASN.1 schema, Tag.aidl the tag
// numbers). Schema versions 1 to 400 (Keymaster 2 to KeyMint 4) parse;
// see KeyDescription.
//
// # Checks
//
// Verify runs, in this order (the reason codes in Reasons follow it):
// size limits before parsing; crypto/x509 parsing of every certificate;
// each signature with the next certificate's key; CA constraints where
// present; validity at the given time; the root's public key against the
// trusted keys; revocation of intermediates and root; then the leaf's
// KeyDescription and the policy: challenge, security level, bootloader
// lock, verified boot, patch levels, key description against the leaf
// key, and the app (package, signing certificates, version code).
// Checks that do not depend on one another all run, so a result lists
// every failure.
//
// # Why the chain is verified position by position
//
// The device sends its chain in order, leaf first. Certificate i must be
// signed by the key of certificate i+1, and the last one by its own key;
// nothing else links them. Issuer and subject names are not matched and no
// path is built, because real chains break name chaining (a sample from
// google/android-key-attestation has a leaf whose issuer names a different
// certificate than the one whose key signed it) while a signature already
// proves what a name would claim. Building paths from a pool would also
// let an attacker's extra certificates choose the path.
//
// # Why roots are matched by public key
//
// Trust ends in a key, not a certificate: Google has issued the same
// RSA-4096 root key in several self-signed certificates (the first expired
// on 2026-05-24), and devices carry whichever one was current when they
// were provisioned. The top certificate is trusted when its
// SubjectPublicKeyInfo equals one of the trusted keys byte for byte, and
// its self-signature must verify. The embedded defaults (roots/*.pem) are
// Google's RSA root key and the EC P-384 "Key Attestation CA1" key; the
// AOSP software-attestation roots and pre-production StrongBox roots are
// not trusted.
//
// # Validity and clocks
//
// Every certificate must be valid at the verification time, which is a
// parameter: captured samples verify at the time they were made and fail
// later (remotely provisioned intermediates live about two weeks). The
// leaf is written with the device's clock, so its validity is widened by
// a small skew. Emulator leaves whose notAfter precedes their notBefore
// are never valid.
//
// # Revocation
//
// Google publishes a status list of revoked and suspended attestation
// certificates by serial number (see ParseStatusList). It is applied to
// intermediates and roots only: leaf serials are chosen by Keystore (1 for
// nearly every key), so a listed leaf serial would refuse every device.
package androidkey
