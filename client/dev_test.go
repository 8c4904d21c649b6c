package client_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/drawbridge-gw/drawbridge/client"
	"github.com/drawbridge-gw/drawbridge/internal/attest/devkey"
)

// TestLoadDevAttestor reads what `drawbridge attestation dev-device`
// writes (devkey.WriteAttestor), and refuses files that are not a device
// key and its certificate.
func TestLoadDevAttestor(t *testing.T) {
	ca, caKey, err := devkey.NewCA(time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	write := func(t *testing.T) string {
		dir := filepath.Join(t.TempDir(), "device")
		a, err := devkey.NewAttestor(ca, caKey, "shop", time.Now(), time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if err := devkey.WriteAttestor(dir, a); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	otherDER, _ := x509.MarshalPKCS8PrivateKey(other)
	for _, tc := range []struct {
		name   string
		change func(t *testing.T, dir string)
		want   string // "" for success
	}{
		{name: "as written"},
		{name: "no such directory", change: func(t *testing.T, dir string) { os.RemoveAll(dir) }, want: "no such file"},
		{name: "another key", change: func(t *testing.T, dir string) {
			rewrite(t, dir, client.DevKeyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: otherDER}))
		}, want: "is not the key of"},
		{name: "not a key", change: func(t *testing.T, dir string) { rewrite(t, dir, client.DevKeyFile, []byte("hello")) }, want: "not a PKCS#8"},
		{name: "no certificate", change: func(t *testing.T, dir string) { rewrite(t, dir, client.DevCertFile, nil) }, want: "holds no certificate"},
		{name: "a key among the certificates", change: func(t *testing.T, dir string) {
			rewrite(t, dir, client.DevCertFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: otherDER}))
		}, want: "holds a PRIVATE KEY"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := write(t)
			if tc.change != nil {
				tc.change(t, dir)
			}
			a, err := client.LoadDevAttestor(dir)
			switch {
			case tc.want == "" && err != nil:
				t.Fatal(err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("error %v, want one saying %q", err, tc.want)
			case err == nil && (a.Platform() != "dev" || len(a.Chain) != 1):
				t.Fatalf("platform %s, %d certificates", a.Platform(), len(a.Chain))
			}
		})
	}
}

func rewrite(t *testing.T, dir, name string, b []byte) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// opaqueSigner is a key the Transport can only use through crypto.Signer,
// as a hardware-backed key.
type opaqueSigner struct{ s crypto.Signer }

func (o opaqueSigner) Public() crypto.PublicKey { return o.s.Public() }
func (o opaqueSigner) Sign(r io.Reader, d []byte, opts crypto.SignerOpts) ([]byte, error) {
	return o.s.Sign(r, d, opts)
}
