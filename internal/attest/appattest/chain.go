package appattest

import (
	"bytes"
	"crypto/x509"
	"errors"
	"slices"
	"time"

	"github.com/drawbridge-gw/drawbridge/internal/attest"
)

// verifyChain checks that leaf chains through intermediates to roots, that
// accept approves the chain found (leaf first, root last), and that every
// certificate is valid at the time at. It records chain_untrusted,
// cert_not_yet_valid and cert_expired, in that order.
//
// Trust and time are told apart: a chain that would be trusted at some
// moment but not at `at` is only expired (or not yet valid), and a forged
// chain is untrusted whatever the time. x509.Verify checks both at once,
// so trust is checked at `at` when every supplied certificate is valid
// then, and otherwise at the first instant they all are.
//
// The bounds are inclusive as in crypto/x509: a certificate is valid at
// exactly its notBefore and at exactly its notAfter.
func verifyChain(r *attest.Result, leaf *x509.Certificate, intermediates []*x509.Certificate, roots *x509.CertPool, at time.Time, accept func(chain []*x509.Certificate) bool) {
	certs := append([]*x509.Certificate{leaf}, intermediates...)
	var notYet, expired bool
	var from, until time.Time
	for i, c := range certs {
		notYet = notYet || at.Before(c.NotBefore)
		expired = expired || at.After(c.NotAfter)
		if i == 0 || c.NotBefore.After(from) {
			from = c.NotBefore
		}
		if i == 0 || c.NotAfter.Before(until) {
			until = c.NotAfter
		}
	}

	untrusted := false
	switch {
	case from.After(until):
		// The certificates are never valid together: no moment trusts them.
		untrusted = true
	default:
		t := at
		if notYet || expired {
			t = from
		}
		pool := x509.NewCertPool()
		for _, c := range intermediates {
			pool.AddCert(c)
		}
		chains, err := leaf.Verify(x509.VerifyOptions{
			Roots:         roots,
			Intermediates: pool,
			CurrentTime:   t,
			// Apple's leaves carry no EKU or Apple-private ones
			// (1.2.840.113635.100.4.24); the EKU says nothing here.
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
		})
		var invalid x509.CertificateInvalidError
		switch {
		case err == nil:
			untrusted = !accept(chains[0])
		case errors.As(err, &invalid) && invalid.Reason == x509.Expired && t.Equal(at):
			// Every supplied certificate is valid at `at`, so the root is
			// not: report it as expired, the chain itself being sound.
			expired = true
		default:
			untrusted = true
		}
	}

	if untrusted {
		r.Fail(ReasonChainUntrusted)
	}
	if notYet {
		r.Fail(ReasonCertNotYetValid)
	}
	if expired {
		r.Fail(ReasonCertExpired)
	}
}

// allOnChain reports whether every certificate is one of the chain's.
func allOnChain(certs, chain []*x509.Certificate) bool {
	for _, c := range certs {
		if !slices.ContainsFunc(chain, func(x *x509.Certificate) bool { return bytes.Equal(x.Raw, c.Raw) }) {
			return false
		}
	}
	return true
}
