package devkey

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// The files `drawbridge attestation dev-ca` and `dev-device` write: keys
// as PKCS#8 PEM with mode 0600, certificates as PEM.
const (
	CAKeyFile      = "ca.key"
	CACertFile     = "ca.pem"
	DeviceKeyFile  = "device.key"
	DeviceCertFile = "device.pem"
)

// WriteCA writes the CA's key and certificate into dir (created 0700 if
// missing). Existing files are never overwritten: a CA key replaced by
// mistake orphans every device certificate it issued.
func WriteCA(dir string, cert *x509.Certificate, key *ecdsa.PrivateKey) error {
	return writePair(dir, CAKeyFile, CACertFile, key, [][]byte{cert.Raw})
}

// ReadCA reads what WriteCA wrote, and checks that the key is the
// certificate's.
func ReadCA(dir string) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	key, chain, err := readPair(dir, CAKeyFile, CACertFile)
	if err != nil {
		return nil, nil, err
	}
	return chain[0], key, nil
}

// WriteAttestor writes the device key and its certificate chain into dir
// (created 0700 if missing), never overwriting.
func WriteAttestor(dir string, a *Attestor) error {
	key, ok := a.Device.(*ecdsa.PrivateKey)
	if !ok {
		return errors.New("devkey: only an in-memory ECDSA device key can be written")
	}
	return writePair(dir, DeviceKeyFile, DeviceCertFile, key, a.Chain)
}

// ReadAttestor reads what WriteAttestor wrote: a CI job or a simulator
// build loads its development device this way.
func ReadAttestor(dir string) (*Attestor, error) {
	key, chain, err := readPair(dir, DeviceKeyFile, DeviceCertFile)
	if err != nil {
		return nil, err
	}
	a := &Attestor{Device: key}
	for _, c := range chain {
		a.Chain = append(a.Chain, c.Raw)
	}
	return a, nil
}

func writePair(dir, keyName, certName string, key *ecdsa.PrivateKey, chain [][]byte) error {
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	keyPath, certPath := filepath.Join(dir, keyName), filepath.Join(dir, certName)
	for _, p := range []string{keyPath, certPath} {
		if _, err := os.Stat(p); err == nil {
			return fmt.Errorf("devkey: %s exists; not overwriting", p)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	var certs []byte
	for _, c := range chain {
		certs = append(certs, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c})...)
	}
	if err := writeNew(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return err
	}
	return writeNew(certPath, certs, 0o644)
}

func readPair(dir, keyName, certName string) (*ecdsa.PrivateKey, []*x509.Certificate, error) {
	keyPEM, err := os.ReadFile(filepath.Join(dir, keyName))
	if err != nil {
		return nil, nil, err
	}
	certPEM, err := os.ReadFile(filepath.Join(dir, certName))
	if err != nil {
		return nil, nil, err
	}
	block, _ := pem.Decode(keyPEM)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, nil, fmt.Errorf("devkey: %s is not a PKCS#8 PEM private key", keyName)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	key, ok := k.(*ecdsa.PrivateKey)
	if err != nil || !ok || key.Curve != elliptic.P256() {
		return nil, nil, fmt.Errorf("devkey: %s is not an ECDSA P-256 private key", keyName)
	}
	var chain []*x509.Certificate
	for rest := certPEM; ; {
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil || block.Type != "CERTIFICATE" {
			return nil, nil, fmt.Errorf("devkey: %s: certificate %d does not parse", certName, len(chain))
		}
		chain = append(chain, c)
	}
	if len(chain) == 0 {
		return nil, nil, fmt.Errorf("devkey: %s holds no certificate", certName)
	}
	if !key.PublicKey.Equal(chain[0].PublicKey) {
		return nil, nil, fmt.Errorf("devkey: %s is not the key of %s", keyName, certName)
	}
	return key, chain, nil
}

// writeNew creates a file that must not exist, with mode perm.
func writeNew(path string, b []byte, perm os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
