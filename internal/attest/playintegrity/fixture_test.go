package playintegrity_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/drawbridge-gw/drawbridge/internal/attest/playintegrity"
	"github.com/drawbridge-gw/drawbridge/internal/attest/playintegrity/playintegritytest"
)

// The fixture: an app whose Play Console keys the tests generate, a
// client data hash, and the time every token is minted and verified at.
var (
	synthNow     = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	synthPackage = "com.example.shop"
	synthDigest  = playintegritytest.Digest("shop release signing certificate")
	clientData   = []byte(`{"challenge":"q3T2Zk1xYz","jkt":"NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"}`)
	synthHash    = func() []byte { h := sha256.Sum256(clientData); return h[:] }()
	synthJKT     = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
)

// Short names for the minting helpers.
type verdict = playintegritytest.Verdict

var (
	sign     = playintegritytest.Sign
	encrypt  = playintegritytest.Encrypt
	digestOf = playintegritytest.Digest
)

func itoa(n int64) string    { return strconv.FormatInt(n, 10) }
func stdB64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
func hexOf(b []byte) string  { return hex.EncodeToString(b) }

type testKeys struct {
	app, other *playintegritytest.Keys
	p384       *ecdsa.PrivateKey
}

var keysOnce = sync.OnceValues(func() (*testKeys, error) {
	app, err := playintegritytest.NewKeys()
	if err != nil {
		return nil, err
	}
	other, err := playintegritytest.NewKeys()
	if err != nil {
		return nil, err
	}
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	return &testKeys{app: app, other: other, p384: p384}, err
})

func keys(tb testing.TB) *testKeys {
	tb.Helper()
	k, err := keysOnce()
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

// synthPolicy is the default policy of the fixture app: version 7 and
// up, device integrity, licensing not asked.
func synthPolicy(tb testing.TB) playintegrity.Policy {
	k := keys(tb).app
	return playintegrity.Policy{
		Package:            synthPackage,
		DecryptionKey:      k.Decryption,
		VerificationKey:    &k.Signing.PublicKey,
		SigningCertDigests: [][]byte{synthDigest},
		MinVersionCode:     7,
	}
}

func synthExpect() playintegrity.Expect {
	return playintegrity.Expect{ClientDataHash: synthHash, BoundKey: synthJKT}
}

// synthVerdict is a verdict every check accepts, for version 9.
func synthVerdict() playintegritytest.Verdict {
	return playintegritytest.NewVerdict(synthPackage, synthHash, synthDigest, 9, synthNow.Add(-10*time.Second))
}

func mustJSON(tb testing.TB, v any) []byte {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func mint(tb testing.TB, k *playintegritytest.Keys, payload []byte) string {
	tb.Helper()
	tok, err := k.Mint(payload)
	if err != nil {
		tb.Fatal(err)
	}
	return tok
}

// nested signs payload with jwsAlg and key, then encrypts the JWS with
// jweAlg and enc under encKey.
func nested(tb testing.TB, payload []byte, key any, jwsAlg string, encKey []byte, jweAlg, enc string) string {
	tb.Helper()
	jws, err := sign(payload, key, jwsAlg)
	if err != nil {
		tb.Fatal(err)
	}
	jwe, err := encrypt([]byte(jws), encKey, jweAlg, enc)
	if err != nil {
		tb.Fatal(err)
	}
	return jwe
}

// flip changes one character in the middle of part i of a compact token
// to another base64url character, keeping the encoding canonical.
func flip(tok string, i int) string {
	parts := strings.Split(tok, ".")
	p := []byte(parts[i])
	j := len(p) / 2
	if p[j] == 'A' {
		p[j] = 'B'
	} else {
		p[j] = 'A'
	}
	parts[i] = string(p)
	return strings.Join(parts, ".")
}

// replacePart swaps part i of a compact token for raw, base64url-encoded.
func replacePart(tok string, i int, raw string) string {
	parts := strings.Split(tok, ".")
	parts[i] = b64url(raw)
	return strings.Join(parts, ".")
}

func b64url(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
