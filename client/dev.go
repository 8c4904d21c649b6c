package client

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// DevAttestor is development attestation (docs/protocol.md,
// "Development attestation"), for simulators, emulators and CI: a device
// key that a development CA certified for the app signs the client data
// hash. Gateways accept it only for apps that allow the development
// environment.
type DevAttestor struct {
	// Device is the device key, ECDSA P-256, certified by Chain[0].
	Device crypto.Signer
	// Chain is the device certificate chain, DER, device certificate
	// first.
	Chain [][]byte
}

var _ Attestor = (*DevAttestor)(nil)

// The files `drawbridge attestation dev-device` writes.
const (
	DevKeyFile  = "device.key"
	DevCertFile = "device.pem"
)

// LoadDevAttestor reads the device key (PKCS#8 PEM) and certificate chain
// (PEM) that `drawbridge attestation dev-device --out DIR` wrote into dir.
func LoadDevAttestor(dir string) (*DevAttestor, error) {
	keyPEM, err := os.ReadFile(filepath.Join(dir, DevKeyFile))
	if err != nil {
		return nil, fmt.Errorf("client: development device: %w", err)
	}
	certPEM, err := os.ReadFile(filepath.Join(dir, DevCertFile))
	if err != nil {
		return nil, fmt.Errorf("client: development device: %w", err)
	}
	block, _ := pem.Decode(keyPEM)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("client: %s is not a PKCS#8 PEM private key", DevKeyFile)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	key, ok := k.(*ecdsa.PrivateKey)
	if err != nil || !ok || key.Curve != elliptic.P256() {
		return nil, fmt.Errorf("client: %s is not an ECDSA P-256 private key", DevKeyFile)
	}
	a := &DevAttestor{Device: key}
	for rest := certPEM; ; {
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("client: %s holds a %s", DevCertFile, block.Type)
		}
		a.Chain = append(a.Chain, block.Bytes)
	}
	if len(a.Chain) == 0 {
		return nil, fmt.Errorf("client: %s holds no certificate", DevCertFile)
	}
	leaf, err := x509.ParseCertificate(a.Chain[0])
	if err != nil {
		return nil, fmt.Errorf("client: %s: %w", DevCertFile, err)
	}
	if !key.PublicKey.Equal(leaf.PublicKey) {
		return nil, fmt.Errorf("client: %s is not the key of %s", DevKeyFile, DevCertFile)
	}
	return a, nil
}

// Platform is "dev".
func (a *DevAttestor) Platform() string { return "dev" }

// Attest signs clientDataHash with the device key, ECDSA P-256 with
// SHA-256 over those 32 bytes as the message, as Android's
// SHA256withECDSA does, and returns the chain and the signature (ASN.1
// DER, base64url).
func (a *DevAttestor) Attest(_ context.Context, clientDataHash []byte) (Evidence, error) {
	if len(clientDataHash) != sha256.Size {
		return Evidence{}, fmt.Errorf("client: the client data hash is %d bytes, want %d", len(clientDataHash), sha256.Size)
	}
	if a.Device == nil || len(a.Chain) == 0 {
		return Evidence{}, errors.New("client: a DevAttestor needs a device key and its certificate")
	}
	digest := sha256.Sum256(clientDataHash)
	sig, err := a.Device.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil {
		return Evidence{}, fmt.Errorf("client: signing the client data hash: %w", err)
	}
	ev := Evidence{Signature: b64url.EncodeToString(sig)}
	for _, c := range a.Chain {
		ev.CertificateChain = append(ev.CertificateChain, base64.StdEncoding.EncodeToString(c))
	}
	return ev, nil
}
