package androidkey

import (
	"crypto"
	"crypto/x509"
	"embed"
	"encoding/pem"
	"fmt"
	"io/fs"
	"sync"
)

// rootFiles holds Google's attestation root public keys as PEM "PUBLIC KEY"
// blocks (SubjectPublicKeyInfo), each preceded by a note of where it comes
// from. Keys, not certificates: Google re-issued the RSA root certificate
// several times with the same key, and a chain is trusted when its top
// certificate carries one of these keys, whichever issue it is.
//
//go:embed roots/*.pem
var rootFiles embed.FS

// googleRoots parses the embedded keys once. They are product data
// checked by the tests, so a failure here is a build defect: it panics on
// first use rather than trusting nothing silently.
var googleRoots = sync.OnceValues(func() ([]crypto.PublicKey, [][]byte) {
	names, err := fs.Glob(rootFiles, "roots/*.pem")
	if err != nil || len(names) == 0 {
		panic("androidkey: no embedded roots")
	}
	var keys []crypto.PublicKey
	var spkis [][]byte
	for _, name := range names {
		b, _ := rootFiles.ReadFile(name)
		block, _ := pem.Decode(b)
		if block == nil || block.Type != "PUBLIC KEY" {
			panic(fmt.Sprintf("androidkey: embedded root %s is not a PUBLIC KEY", name))
		}
		key, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			panic(fmt.Sprintf("androidkey: embedded root %s: %v", name, err))
		}
		keys = append(keys, key)
		spkis = append(spkis, block.Bytes)
	}
	return keys, spkis
})

// GoogleRoots returns Google's hardware attestation root public keys: the
// RSA-4096 "Google Hardware Attestation Root" key and the EC P-384 "Key
// Attestation CA1" key. A Policy with nil TrustedRoots trusts these.
func GoogleRoots() []crypto.PublicKey {
	keys, _ := googleRoots()
	return append([]crypto.PublicKey(nil), keys...)
}
