package appattest

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"
)

// The embedded roots are Apple's: their SHA-256 fingerprints are the ones
// Apple publishes (https://www.apple.com/certificateauthority/) and the
// shared vectors record.
var pinnedRoots = []struct {
	file, subject, sha256 string
}{
	{appAttestRootFile, "CN=Apple App Attestation Root CA,O=Apple Inc.,ST=California",
		"1cb9823ba28ba6ad2d33a006941de2ae4f513ef1d4e831b9f7e0fa7b6242c932"},
	{receiptRootFile, "CN=Apple Root CA - G3,OU=Apple Certification Authority,O=Apple Inc.,C=US",
		"63343abfb89a6a03ebb57e9b3f5fa7be7c4f5c756f3017b3a8c488c3653e9179"},
}

func TestEmbeddedRootsPinned(t *testing.T) {
	for _, p := range pinnedRoots {
		c, err := loadRoot(p.file)
		if err != nil {
			t.Fatalf("%s: %v", p.file, err)
		}
		sum := sha256.Sum256(c.Raw)
		if got := hex.EncodeToString(sum[:]); got != p.sha256 {
			t.Errorf("%s: fingerprint %s, want %s", p.file, got, p.sha256)
		}
		if c.Subject.String() != p.subject || !c.IsCA {
			t.Errorf("%s: subject %q CA %v", p.file, c.Subject, c.IsCA)
		}
		if err := c.CheckSignatureFrom(c); err != nil {
			t.Errorf("%s: not self-signed: %v", p.file, err)
		}
	}
	for pool, file := range map[*x509.CertPool]string{appAttestRoots(): appAttestRootFile, receiptRoots(): receiptRootFile} {
		c, _ := loadRoot(file)
		want := x509.NewCertPool()
		want.AddCert(c)
		if !pool.Equal(want) {
			t.Errorf("the pool of %s is not exactly that root", file)
		}
	}
}

// The embedded copies are the vectors' roots, byte for byte or as the same
// certificate.
func TestEmbeddedRootsMatchVectors(t *testing.T) {
	dir := needVectors(t)
	for _, p := range pinnedRoots {
		embedded, err := rootFiles.ReadFile(p.file)
		if err != nil {
			t.Fatal(err)
		}
		shared, err := os.ReadFile(filepath.Join(dir, "roots", filepath.Base(p.file)))
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Equal(embedded, shared) {
			continue
		}
		a, _ := pem.Decode(embedded)
		b, _ := pem.Decode(shared)
		if a == nil || b == nil || !bytes.Equal(a.Bytes, b.Bytes) {
			t.Errorf("%s differs from the vectors' copy", p.file)
		}
	}
}
