package token

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rsa"
	"math/big"
)

// verifySignature checks sig over input with k for alg, which k fits. It
// is the one place signatures are checked, so Wycheproof's vectors run
// through exactly this code.
//
// Every encoding is exact: ECDSA signatures are the fixed-length r||s of
// RFC 7518 §3.4 (a DER signature, a short or long one, r or s outside
// [1, n-1] — CVE-2022-21449's r=s=0 — are refused before any arithmetic);
// Ed25519 signatures are 64 bytes and S < L (crypto/ed25519, RFC 8032
// §5.1.7); RSA signatures have the modulus length; HMAC tags have the
// hash length and are compared in constant time.
func verifySignature(alg string, k *Key, input, sig []byte) bool {
	info := algs[alg]
	if info.sigSize != 0 && len(sig) != info.sigSize {
		return false
	}
	switch info.kty {
	case "EC":
		pub, ok := k.pub.(*ecdsa.PublicKey)
		if !ok {
			return false
		}
		n := pub.Curve.Params().N
		half := len(sig) / 2
		r := new(big.Int).SetBytes(sig[:half])
		s := new(big.Int).SetBytes(sig[half:])
		if r.Sign() <= 0 || s.Sign() <= 0 || r.Cmp(n) >= 0 || s.Cmp(n) >= 0 {
			return false
		}
		h := info.hash.New()
		h.Write(input)
		return ecdsa.Verify(pub, h.Sum(nil), r, s)
	case "OKP":
		pub, ok := k.pub.(ed25519.PublicKey)
		if !ok || len(pub) != ed25519.PublicKeySize {
			return false
		}
		return ed25519.Verify(pub, input, sig)
	case "RSA":
		pub, ok := k.pub.(*rsa.PublicKey)
		if !ok || len(sig) != pub.Size() {
			return false
		}
		h := info.hash.New()
		h.Write(input)
		if info.pss {
			// RFC 7518 §3.5: the salt is as long as the hash.
			return rsa.VerifyPSS(pub, info.hash, h.Sum(nil), sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash}) == nil
		}
		return rsa.VerifyPKCS1v15(pub, info.hash, h.Sum(nil), sig) == nil
	case "oct":
		if info.paseto || len(k.secret) < info.minKey {
			return false
		}
		m := hmac.New(info.hash.New, k.secret)
		m.Write(input)
		return hmac.Equal(m.Sum(nil), sig)
	}
	return false
}
