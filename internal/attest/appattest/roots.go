package appattest

import (
	"crypto/x509"
	"embed"
	"encoding/pem"
	"sync"
)

// The two Apple roots the verifiers trust by default. They are product
// data, not test data: the gateway needs them at run time, and fetching
// them would make trust depend on the network. Both are public
// (https://www.apple.com/certificateauthority/); roots_test.go pins their
// SHA-256 fingerprints and checks them against the shared vectors.
//
//go:embed roots/*.pem
var rootFiles embed.FS

const (
	// appAttestRootFile signs the App Attest x5c chains (intermediate
	// "Apple App Attestation CA 1"). Valid 2020-03-18 to 2045-03-15.
	appAttestRootFile = "roots/apple-app-attestation-root-ca.pem"
	// receiptRootFile signs the receipts' CMS chains (intermediate "Apple
	// Application Integration CA 5 - G1"). Valid 2014-04-30 to 2039-04-30.
	receiptRootFile = "roots/apple-root-ca-g3.pem"
)

// Pools are built once and never written afterwards; x509.CertPool is safe
// for concurrent reads. A root that fails to load yields an empty pool, so
// every chain is refused (fail closed), and the roots test fails.
var (
	appAttestRoots = sync.OnceValue(func() *x509.CertPool { return loadPool(appAttestRootFile) })
	receiptRoots   = sync.OnceValue(func() *x509.CertPool { return loadPool(receiptRootFile) })
)

func loadPool(name string) *x509.CertPool {
	pool := x509.NewCertPool()
	if c, err := loadRoot(name); err == nil {
		pool.AddCert(c)
	}
	return pool
}

func loadRoot(name string) (*x509.Certificate, error) {
	b, err := rootFiles.ReadFile(name)
	if err != nil {
		return nil, err
	}
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "CERTIFICATE" {
		return nil, errNoPEM
	}
	return x509.ParseCertificate(blk.Bytes)
}

type constError string

func (e constError) Error() string { return string(e) }

const errNoPEM = constError("appattest: embedded root is not a PEM certificate")
