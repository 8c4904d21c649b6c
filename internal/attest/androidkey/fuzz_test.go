package androidkey

import (
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"golang.org/x/crypto/cryptobyte"
)

// Native fuzz tests for the three parsers of attacker-controlled bytes:
// the KeyDescription, the certificate chain (through Verify) and the
// status list. Seeds are synthetic encodings plus, when the vectors are
// present, the real chains and lists read in place.

// vectorChains returns the real chains (DER, leaf first), if present.
func vectorChains() [][][]byte {
	dir := vectorDirOptional("android-key")
	if dir == "" {
		return nil
	}
	names, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	var out [][][]byte
	for _, name := range names {
		b, err := os.ReadFile(name)
		if err != nil {
			continue
		}
		var v androidVector
		if json.Unmarshal(b, &v) != nil {
			continue
		}
		var chain [][]byte
		for _, p := range v.ChainPEM {
			if block, _ := pem.Decode([]byte(p)); block != nil {
				chain = append(chain, block.Bytes)
			}
		}
		out = append(out, chain)
	}
	return out
}

func kdSeeds(f *testing.F) {
	k := defaultKD()
	f.Add(k.der())
	k.deviceInSoftware, k.noAAI, k.curve = true, true, -1
	f.Add(k.der())
	k = defaultKD()
	k.noRoT, k.pkgs, k.digests = true, []PackageInfo{{"a", 1}, {"b", -1}}, nil
	f.Add(k.der())
	f.Add([]byte{})
	f.Add([]byte{0x30, 0x00})
}

func FuzzParseKeyDescription(f *testing.F) {
	kdSeeds(f)
	for _, chain := range vectorChains() {
		if kd := leafKeyDescription(chain[0]); kd != nil {
			f.Add(kd)
		}
	}
	f.Fuzz(func(t *testing.T, der []byte) {
		kd, err := ParseKeyDescription(der)
		if (kd == nil) == (err == nil) {
			t.Fatalf("kd %v err %v", kd, err)
		}
	})
}

// encodeChain packs a chain as uint16-length-prefixed certificates, the
// fuzz input format that lets the fuzzer vary the chain length.
func encodeChain(chain [][]byte) []byte {
	var b cryptobyte.Builder
	for _, c := range chain {
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(c) })
	}
	out, _ := b.Bytes()
	return out
}

func FuzzVerifyChain(f *testing.F) {
	f.Add(encodeChain(buildChain(f, chainOpts{})))
	f.Add(encodeChain(buildChain(f, chainOpts{rootKey: testPKIOnce().rsaKey})))
	for _, chain := range vectorChains() {
		f.Add(encodeChain(chain))
	}
	policy := synthPolicy(f)
	policy.Apps = append(policy.Apps, App{Package: "at.asitplus.attestation_client", SigningCertDigests: [][]byte{wardenDigest}})
	policy.TrustedRoots = append(policy.TrustedRoots, GoogleRoots()...)
	f.Fuzz(func(t *testing.T, data []byte) {
		s := cryptobyte.String(data)
		var chain [][]byte
		for !s.Empty() {
			var c cryptobyte.String
			if !s.ReadUint16LengthPrefixed(&c) {
				break
			}
			chain = append(chain, c)
		}
		r := Verify(chain, synthChallenge, policy, synthNow)
		if r.Valid != (len(r.Reasons) == 0) || r.Valid != (r.Reason == "") || !r.Valid && r.Reason != r.Reasons[0] {
			t.Fatalf("inconsistent result %+v", r)
		}
		last := -1
		for _, code := range r.Reasons {
			i := slices.Index(Reasons, code)
			if i <= last {
				t.Fatalf("reasons out of order or undeclared: %v", r.Reasons)
			}
			last = i
		}
	})
}

func FuzzParseStatusList(f *testing.F) {
	f.Add([]byte(`{"entries": {"1": {"status": "REVOKED"}, "C8966FCB2FBB0D7A": {"status": "SUSPENDED", "reason": "SOFTWARE_FLAW"}}}`))
	f.Add([]byte(`{"entries": {}}`))
	f.Add([]byte(`{"entries": {"00ff": {}}, "x": [1, {"y": null}]}`))
	if dir := vectorDirOptional("revocation"); dir != "" {
		names, _ := filepath.Glob(filepath.Join(dir, "*.json"))
		for _, name := range names {
			if b, err := os.ReadFile(name); err == nil {
				f.Add(b)
			}
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		l, err := ParseStatusList(b)
		if (l == nil) == (err == nil) {
			t.Fatalf("list %v err %v", l, err)
		}
		if l != nil {
			for key := range l.entries {
				n, ok := parseSerialHex(key)
				if !ok || n.Text(16) != key {
					t.Fatalf("key %q not normalized", key)
				}
			}
		}
	})
}

// leafKeyDescription returns the KeyDescription extension value of a
// leaf certificate, or nil.
func leafKeyDescription(der []byte) []byte {
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return nil
	}
	ext, n := keyDescriptionExtension(leaf)
	if n != 1 {
		return nil
	}
	return ext
}
