package httpsig

import (
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"fmt"

	"github.com/dunglas/httpsfv"
)

// Content-Digest algorithms (RFC 9530 §5). Others, the deprecated md5,
// sha, unixsum and unixcksum among them, are ignored.
const (
	DigestSHA256 = "sha-256"
	DigestSHA512 = "sha-512"
)

// ContentDigest returns the Content-Digest field value of body for alg,
// DigestSHA256 or DigestSHA512, e.g. "sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:".
func ContentDigest(alg string, body []byte) (string, error) {
	sum, err := digestOf(alg, body)
	if err != nil {
		return "", err
	}
	return alg + "=:" + base64.StdEncoding.EncodeToString(sum) + ":", nil
}

func digestOf(alg string, body []byte) ([]byte, error) {
	switch alg {
	case DigestSHA256:
		h := sha256.Sum256(body)
		return h[:], nil
	case DigestSHA512:
		h := sha512.Sum512(body)
		return h[:], nil
	}
	return nil, fmt.Errorf("httpsig: digest algorithm %q is not supported", alg)
}

// CheckContentDigest checks the Content-Digest field values against body
// (RFC 9530 §2): every sha-256 and sha-512 member must match; members of
// other algorithms are ignored. When none of the known algorithms is
// present it returns "" and, if required, a digest_missing error.
// Otherwise it returns the strongest algorithm checked. The field is
// bounded by lim before it is parsed, and the body by lim.MaxBodyBytes
// before it is hashed.
func CheckContentDigest(fieldValues []string, body []byte, required bool, lim Limits) (string, error) {
	if int64(len(body)) > lim.maxBodyBytes() {
		return "", fail(ReasonBodyTooLarge, "body is longer than %d bytes", lim.maxBodyBytes())
	}
	if len(fieldValues) == 0 {
		if required {
			return "", fail(ReasonDigestMissing, "no Content-Digest field")
		}
		return "", nil
	}
	if joinedLen(fieldValues) > lim.maxFieldBytes() {
		return "", fail(ReasonTooLarge, "Content-Digest is longer than %d bytes", lim.maxFieldBytes())
	}
	d, err := httpsfv.UnmarshalDictionary(fieldValues)
	if err != nil {
		return "", fail(ReasonMalformedDigest, "Content-Digest is not a structured dictionary")
	}
	checked := ""
	for _, alg := range []string{DigestSHA256, DigestSHA512} {
		m, ok := d.Get(alg)
		if !ok {
			continue
		}
		it, ok := m.(httpsfv.Item)
		got, isBytes := it.Value.([]byte)
		want, _ := digestOf(alg, body)
		if !ok || !isBytes || len(got) != len(want) {
			return "", fail(ReasonMalformedDigest, "Content-Digest %s is not a byte sequence of %d bytes", alg, len(want))
		}
		if subtle.ConstantTimeCompare(got, want) != 1 {
			return "", fail(ReasonDigestMismatch, "Content-Digest %s does not match the body", alg)
		}
		checked = alg
	}
	if checked == "" && required {
		return "", fail(ReasonDigestMissing, "Content-Digest has no sha-256 or sha-512 member")
	}
	return checked, nil
}
