package cli

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/drawbridge-gw/drawbridge/internal/attest"
	"github.com/drawbridge-gw/drawbridge/internal/attest/androidkey"
	"github.com/drawbridge-gw/drawbridge/internal/attest/appattest"
	"github.com/drawbridge-gw/drawbridge/internal/attest/devkey"
	"github.com/drawbridge-gw/drawbridge/internal/attest/playintegrity"
)

func newAttestationCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:                        "attestation",
		Short:                      "Verify attestation evidence offline; make development CAs and device keys",
		Args:                       noSubcommandArgs,
		RunE:                       func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
		SuggestionsMinimumDistance: 2,
	}
	cmd.AddCommand(newAttestVerifyCmd(), newDevCACmd(), newDevDeviceCmd())
	return cmd
}

// verifyFlags are the relaxing flags of 'attestation verify', and the
// platforms each applies to.
type verifyFlags struct {
	platform, input, at                                                   string
	allowSoftware, allowUnlocked, allowUnverifiedBoot, allowDevelopment   bool
	allowUnrecognized, allowBasic, allowVirtual, allowUnlic, allowTesting bool
	minPatchLevel                                                         int
	maxAge                                                                time.Duration
}

// verifiers read an input and verify it, per platform.
var verifiers = map[string]func(raw []byte, f verifyFlags, at time.Time) (attest.Result, error){
	"apple": verifyApple, "apple-assertion": verifyAppleAssertion, "android": verifyAndroid, "play": verifyPlay, "dev": verifyDev,
}

var flagPlatforms = map[string][]string{
	"allow-software": {"android"}, "allow-unlocked": {"android"}, "allow-unverified-boot": {"android"}, "min-patch-level": {"android"},
	"allow-development":          {"apple", "dev"},
	"allow-unrecognized-version": {"play"}, "allow-basic-integrity": {"play"}, "allow-virtual": {"play"},
	"allow-unlicensed": {"play"}, "allow-testing-response": {"play"}, "max-age": {"play"},
}

func newAttestVerifyCmd() *cobra.Command {
	var f verifyFlags
	cmd := &cobra.Command{
		Use:   "verify --platform apple|apple-assertion|android|play|dev --input FILE [--at RFC3339] [relaxing flags]",
		Short: "Verify one piece of attestation evidence offline and print the JSON verdict",
		Long: `Verify one piece of attestation evidence from a JSON file ("-": standard
input) as the gateway would, and print the verdict: valid, the first failing
check (reason), every failing check in the format's documented order
(reasons), and the facts the evidence establishes.

apple, apple-assertion and android read the files of the conformance vectors
(appattest/*-attestation.json, *-assertion.json, android-key/*.json); play
and dev the formats in docs/protocol.md. What the input names (app, challenge,
environment, counter, keys) is what the verifier expects. Without flags the
strictest policy applies (hardware-backed, locked, verified boot; the input's
environment, production for dev; Play recognition and device integrity);
flags relax it. Without --at the time is now. Exit 0 when valid, 1 when
refused, 2 on bad usage or an unreadable input.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			for name, platforms := range flagPlatforms {
				if cmd.Flags().Changed(name) && !slices.Contains(platforms, f.platform) {
					return usagef("--%s applies to --platform %s only", name, strings.Join(platforms, ", "))
				}
			}
			at := time.Now()
			if f.at != "" {
				t, err := time.Parse(time.RFC3339, f.at)
				if err != nil {
					return usagef("--at wants an RFC 3339 time such as 2026-01-02T15:04:05Z, got %q", f.at)
				}
				at = t
			}
			if f.input == "" {
				return usagef("attestation verify needs --input FILE")
			}
			raw, err := readInput(cmd.InOrStdin(), f.input)
			if err != nil {
				return usagef("--input: %v", err)
			}
			verify, ok := verifiers[f.platform]
			if !ok {
				return usagef("--platform wants apple, apple-assertion, android, play or dev, got %q", f.platform)
			}
			r, err := verify(raw, f, at)
			if err != nil {
				return usagef("--input %s: %v", f.input, err)
			}
			if err := printJSON(cmd.OutOrStdout(), r); err != nil {
				return err
			}
			if !r.Valid {
				return silentError{ExitRefused}
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.platform, "platform", "", "apple, apple-assertion, android, play or dev")
	fl.StringVar(&f.input, "input", "", "the evidence and expectations, JSON `FILE` (- for standard input)")
	fl.StringVar(&f.at, "at", "", "verify as of this RFC 3339 time; default: now")
	fl.BoolVar(&f.allowSoftware, "allow-software", false, "android: accept software-backed keys (trusting no more roots)")
	fl.BoolVar(&f.allowUnlocked, "allow-unlocked", false, "android: accept an unlocked bootloader")
	fl.BoolVar(&f.allowUnverifiedBoot, "allow-unverified-boot", false, "android: accept a self-signed or unverified boot")
	fl.IntVar(&f.minPatchLevel, "min-patch-level", 0, "android: minimum OS patch level, YYYYMM")
	fl.BoolVar(&f.allowDevelopment, "allow-development", false, "apple, dev: accept the development environment")
	fl.BoolVar(&f.allowUnrecognized, "allow-unrecognized-version", false, "play: accept UNRECOGNIZED_VERSION")
	fl.BoolVar(&f.allowBasic, "allow-basic-integrity", false, "play: ask only MEETS_BASIC_INTEGRITY")
	fl.BoolVar(&f.allowVirtual, "allow-virtual", false, "play: accept MEETS_VIRTUAL_INTEGRITY (emulators)")
	fl.BoolVar(&f.allowUnlic, "allow-unlicensed", false, "play: do not require LICENSED even if the input does")
	fl.BoolVar(&f.allowTesting, "allow-testing-response", false, "play: accept Play Console test responses")
	fl.DurationVar(&f.maxAge, "max-age", 0, "play: how old the verdict may be (default: the input's, else 2m)")
	return cmd
}

// maxInput caps an input file: real ones are a few KiB.
const maxInput = 1 << 20

func readInput(stdin io.Reader, name string) ([]byte, error) {
	r := stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	b, err := io.ReadAll(io.LimitReader(r, maxInput+1))
	if err == nil && len(b) > maxInput {
		err = fmt.Errorf("larger than %d bytes", maxInput)
	}
	return b, err
}

// decodeInput reads the input object. Vector files carry metadata the
// verifier does not need, so apple and android inputs may hold unknown
// members; play and dev inputs, whose format drawbridge defines, may not,
// so that a misspelt policy member is an error rather than ignored.
func decodeInput(raw []byte, v any, strict bool) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if strict {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("data after the JSON object")
	}
	return nil
}

// clientDataInput are the ways an input gives the client data: as the
// app sends it (base64url), as text, in standard base64 (the vectors),
// or only its hash.
type clientDataInput struct {
	ClientData        string `json:"client_data"`
	ClientDataUTF8    string `json:"client_data_utf8"`
	ClientDataB64     string `json:"client_data_b64"`
	ClientDataHashB64 string `json:"client_data_hash_b64"`
}

// resolve returns the client data (nil when only the hash is given) and
// the hash: client_data_hash_b64 as given (what the app passed, which
// Apple's samples show need not be a SHA-256), else SHA-256 of the
// client data. When both are given they must agree.
func (c clientDataInput) resolve() (data, hash []byte, err error) {
	switch {
	case c.ClientData != "":
		data, err = decodeB64(c.ClientData)
	case c.ClientDataB64 != "":
		data, err = decodeB64(c.ClientDataB64)
	case c.ClientDataUTF8 != "":
		data = []byte(c.ClientDataUTF8)
	}
	if err != nil {
		return nil, nil, errors.New("the client data is not base64")
	}
	if c.ClientDataHashB64 != "" {
		if hash, err = decodeB64(c.ClientDataHashB64); err != nil {
			return nil, nil, errors.New("client_data_hash_b64 is not base64")
		}
		if sum := sha256.Sum256(data); data != nil && !bytes.Equal(sum[:], hash) {
			return nil, nil, errors.New("client_data_hash_b64 is not the SHA-256 of the client data")
		}
		return data, hash, nil
	}
	if data == nil {
		return nil, nil, errors.New("no client data: give client_data, client_data_utf8, client_data_b64 or client_data_hash_b64")
	}
	sum := sha256.Sum256(data)
	return data, sum[:], nil
}

// boundKey is the jkt the client data names, if it is JSON that names
// one (docs/protocol.md §2); the verifiers report it as the bound key.
func boundKey(data []byte) string {
	var cd struct {
		JKT string `json:"jkt"`
	}
	if json.Unmarshal(data, &cd) != nil {
		return ""
	}
	return cd.JKT
}

// decodeB64 reads base64 in either alphabet, padded or not: input files
// are assembled by hand from sources that use both.
func decodeB64(s string) ([]byte, error) {
	s = strings.TrimRight(strings.TrimSpace(s), "=")
	if strings.ContainsAny(s, "-_") {
		return base64.RawURLEncoding.DecodeString(s)
	}
	return base64.RawStdEncoding.DecodeString(s)
}

func verifyApple(raw []byte, f verifyFlags, at time.Time) (attest.Result, error) {
	var in struct {
		Attestation string `json:"attestation_b64"`
		KeyID       string `json:"key_id_b64"`
		TeamID      string `json:"team_id"`
		BundleID    string `json:"bundle_id"`
		AppID       string `json:"app_id"`
		Environment string `json:"environment"`
		clientDataInput
	}
	if err := decodeInput(raw, &in, false); err != nil {
		return attest.Result{}, err
	}
	att, err := decodeB64(in.Attestation)
	if err != nil || len(att) == 0 {
		return attest.Result{}, errors.New("attestation_b64 is missing or not base64")
	}
	exp := appattest.Expect{TeamID: in.TeamID, BundleID: in.BundleID}
	if exp.TeamID == "" && exp.BundleID == "" {
		exp.TeamID, exp.BundleID, _ = strings.Cut(in.AppID, ".")
	}
	if _, exp.ClientDataHash, err = in.resolve(); err != nil {
		return attest.Result{}, err
	}
	if in.KeyID != "" {
		if exp.KeyID, err = decodeB64(in.KeyID); err != nil {
			return attest.Result{}, errors.New("key_id_b64 is not base64")
		}
	}
	if in.Environment != "" {
		exp.Environments = []string{in.Environment}
	}
	if f.allowDevelopment {
		exp.Environments = append(exp.Environments, appattest.Production, appattest.Development)
	}
	return appattest.VerifyAttestation(att, exp, at), nil
}

func verifyAppleAssertion(raw []byte, _ verifyFlags, _ time.Time) (attest.Result, error) {
	var in struct {
		Assertion       string  `json:"assertion_b64"`
		PublicKeyPEM    string  `json:"public_key_pem"`
		PreviousCounter *uint64 `json:"previous_counter"`
		TeamID          string  `json:"team_id"`
		BundleID        string  `json:"bundle_id"`
		AppID           string  `json:"app_id"`
		clientDataInput
	}
	if err := decodeInput(raw, &in, false); err != nil {
		return attest.Result{}, err
	}
	a, err := decodeB64(in.Assertion)
	if err != nil || len(a) == 0 {
		return attest.Result{}, errors.New("assertion_b64 is missing or not base64")
	}
	block, _ := pem.Decode([]byte(in.PublicKeyPEM))
	if block == nil || in.PreviousCounter == nil {
		return attest.Result{}, errors.New("public_key_pem and previous_counter are required")
	}
	exp := appattest.AssertionExpect{TeamID: in.TeamID, BundleID: in.BundleID, PublicKey: block.Bytes, PreviousCounter: *in.PreviousCounter}
	if exp.TeamID == "" && exp.BundleID == "" {
		exp.TeamID, exp.BundleID, _ = strings.Cut(in.AppID, ".")
	}
	if exp.ClientData, _, err = in.resolve(); err != nil || exp.ClientData == nil {
		return attest.Result{}, errors.New("an assertion needs the client data itself (client_data_utf8, client_data_b64 or client_data)")
	}
	return appattest.VerifyAssertion(a, exp), nil
}

// noApp is the app an android input without expected_app expects: a
// package no device reports, so that the verdict lists
// androidkey.package_not_allowed and shows what else the chain says.
var noApp = androidkey.App{Package: "(no expected_app in the input)", SigningCertDigests: [][]byte{make([]byte, sha256.Size)}}

func verifyAndroid(raw []byte, f verifyFlags, at time.Time) (attest.Result, error) {
	var in struct {
		ChainPEM     []string `json:"chain_pem"`
		ChallengeB64 string   `json:"challenge_b64"`
		ExpectedApp  *struct {
			Package   string `json:"package_name"`
			DigestB64 string `json:"signature_digest_sha256_b64"`
			DigestHex string `json:"signature_digest_sha256_hex"`
			MinCode   int64  `json:"min_version_code"`
		} `json:"expected_app"`
		clientDataInput
	}
	if err := decodeInput(raw, &in, false); err != nil {
		return attest.Result{}, err
	}
	var chain [][]byte
	for i, p := range in.ChainPEM {
		block, _ := pem.Decode([]byte(p))
		if block == nil {
			return attest.Result{}, fmt.Errorf("chain_pem[%d] is not PEM", i)
		}
		chain = append(chain, block.Bytes)
	}
	challenge, err := decodeB64(in.ChallengeB64)
	if in.ChallengeB64 == "" {
		_, challenge, err = in.resolve() // the protocol's challenge: client_data_hash
	}
	if err != nil {
		return attest.Result{}, fmt.Errorf("challenge: %v", err)
	}
	app := noApp
	if e := in.ExpectedApp; e != nil {
		d, err := hex.DecodeString(e.DigestHex)
		if e.DigestB64 != "" {
			d, err = decodeB64(e.DigestB64)
		}
		if err != nil || len(d) != sha256.Size {
			return attest.Result{}, errors.New("expected_app: the signing digest is not 32 bytes of hex or base64")
		}
		app = androidkey.App{Package: e.Package, SigningCertDigests: [][]byte{d}, MinVersionCode: e.MinCode}
	}
	p := androidkey.Policy{
		Apps:                []androidkey.App{app},
		AllowSoftware:       f.allowSoftware,
		AllowUnlocked:       f.allowUnlocked,
		AllowUnverifiedBoot: f.allowUnverifiedBoot,
		MinOSPatchLevel:     f.minPatchLevel,
	}
	if err := p.Validate(); err != nil {
		return attest.Result{}, err
	}
	return androidkey.Verify(chain, challenge, p, at), nil
}

func verifyPlay(raw []byte, f verifyFlags, at time.Time) (attest.Result, error) {
	var in struct {
		Token           string   `json:"integrity_token"`
		DecryptionKey   string   `json:"decryption_key"`
		VerificationKey string   `json:"verification_key"`
		Package         string   `json:"package_name"`
		Digests         []string `json:"signing_cert_digests"`
		MinVersionCode  int64    `json:"min_version_code"`
		DeviceIntegrity string   `json:"device_integrity"`
		RequireLicensed bool     `json:"require_licensed"`
		AllowUnrecog    bool     `json:"allow_unrecognized_version"`
		MaxAge          string   `json:"max_age"`
		// Members of a pasted exchange request, read and ignored.
		App        json.RawMessage `json:"app"`
		SigningKey json.RawMessage `json:"signing_key"`
		AppVersion json.RawMessage `json:"app_version"`
		clientDataInput
	}
	if err := decodeInput(raw, &in, true); err != nil {
		return attest.Result{}, err
	}
	data, hash, err := in.resolve()
	if err != nil {
		return attest.Result{}, err
	}
	p := playintegrity.Policy{Package: in.Package, MinVersionCode: in.MinVersionCode, DeviceIntegrity: in.DeviceIntegrity,
		RequireLicensed: in.RequireLicensed && !f.allowUnlic, AllowUnrecognizedVersion: in.AllowUnrecog || f.allowUnrecognized,
		AllowVirtual: f.allowVirtual, AllowTestingResponse: f.allowTesting, MaxAge: f.maxAge}
	if p.DecryptionKey, err = playintegrity.ParseDecryptionKey(in.DecryptionKey); err != nil {
		return attest.Result{}, err
	}
	if p.VerificationKey, err = playintegrity.ParseVerificationKey(in.VerificationKey); err != nil {
		return attest.Result{}, err
	}
	for i, s := range in.Digests {
		d, err := parseDigest(s)
		if err != nil {
			return attest.Result{}, fmt.Errorf("signing_cert_digests[%d]: %v", i, err)
		}
		p.SigningCertDigests = append(p.SigningCertDigests, d)
	}
	if f.allowBasic {
		p.DeviceIntegrity = playintegrity.MeetsBasicIntegrity
	}
	if in.MaxAge != "" && p.MaxAge == 0 {
		if p.MaxAge, err = time.ParseDuration(in.MaxAge); err != nil {
			return attest.Result{}, fmt.Errorf("max_age: %v", err)
		}
	}
	if err := p.Validate(); err != nil {
		return attest.Result{}, err
	}
	exp := playintegrity.Expect{ClientDataHash: hash, BoundKey: boundKey(data)}
	return playintegrity.Verify(in.Token, exp, p, at), nil
}

// parseDigest reads a SHA-256 digest as hex (colons allowed, as keytool
// prints it) or base64.
func parseDigest(s string) ([]byte, error) {
	if h := strings.ReplaceAll(s, ":", ""); len(h) == 2*sha256.Size {
		if d, err := hex.DecodeString(h); err == nil {
			return d, nil
		}
	}
	if d, err := decodeB64(s); err == nil && len(d) == sha256.Size {
		return d, nil
	}
	return nil, errors.New("not a SHA-256 digest in hex or base64")
}

func verifyDev(raw []byte, f verifyFlags, at time.Time) (attest.Result, error) {
	var in struct {
		App              string   `json:"app"`
		CertificateChain []string `json:"certificate_chain"`
		Signature        string   `json:"signature"`
		CAFile           string   `json:"ca_file"`
		CAPEM            string   `json:"ca_pem"`
		// Members of a pasted exchange request, read and ignored.
		SigningKey json.RawMessage `json:"signing_key"`
		AppVersion json.RawMessage `json:"app_version"`
		clientDataInput
	}
	if err := decodeInput(raw, &in, true); err != nil {
		return attest.Result{}, err
	}
	data, hash, err := in.resolve()
	if err != nil {
		return attest.Result{}, err
	}
	ev, err := devkey.DecodeEvidence(in.CertificateChain, in.Signature)
	if err != nil {
		return attest.Result{}, err
	}
	caPEM := []byte(in.CAPEM)
	if (in.CAFile == "") == (in.CAPEM == "") {
		return attest.Result{}, errors.New("give the development CA as ca_file or ca_pem (one of them)")
	}
	if in.CAFile != "" {
		if !filepath.IsAbs(in.CAFile) {
			in.CAFile = filepath.Join(filepath.Dir(f.input), in.CAFile) // beside the input
		}
		if caPEM, err = os.ReadFile(in.CAFile); err != nil {
			return attest.Result{}, err
		}
	}
	cas, err := devkey.ParseCAs(caPEM)
	if err != nil {
		return attest.Result{}, err
	}
	p := devkey.Policy{App: in.App, CAs: cas, AllowDevelopment: f.allowDevelopment}
	if err := p.Validate(); err != nil {
		return attest.Result{}, err
	}
	return devkey.Verify(ev, devkey.Expect{ClientDataHash: hash, BoundKey: boundKey(data)}, p, at), nil
}

func newDevCACmd() *cobra.Command {
	var out string
	var days int
	cmd := &cobra.Command{
		Use:   "dev-ca --out DIR [--days N]",
		Short: "Create a development CA for development attestation",
		Long: `Create a development CA: DIR/ca.key (ECDSA P-256, PKCS#8 PEM, mode 0600) and
DIR/ca.pem. List ca.pem in the apps' dev.ca_files; keep ca.key on developers'
machines or in the CI secret store, never in a repository nor on the gateway.
Existing files are never overwritten.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" || days < 0 {
				return usagef("dev-ca needs --out DIR (and --days N >= 1 if given)")
			}
			cert, key, err := devkey.NewCA(time.Now(), time.Duration(days)*24*time.Hour)
			if err != nil {
				return err
			}
			if err := devkey.WriteCA(out, cert, key); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "development CA, valid until %s\n  certificate: %s (list it in the app's dev.ca_files)\n  private key: %s (keep it secret; never commit it)\n",
				cert.NotAfter.UTC().Format(time.RFC3339), filepath.Join(out, devkey.CACertFile), filepath.Join(out, devkey.CAKeyFile))
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "output `DIR`")
	cmd.Flags().IntVar(&days, "days", 0, "lifetime in days (default 3 years)")
	return cmd
}

func newDevDeviceCmd() *cobra.Command {
	var caDir, app, out string
	var days int
	cmd := &cobra.Command{
		Use:   "dev-device --ca DIR --app APP --out DIR [--days N]",
		Short: "Issue a development device key for an app, certified by the development CA",
		Long: `Generate a device key and certify it with the development CA in --ca DIR for
APP: OUT/device.key (ECDSA P-256, PKCS#8 PEM, mode 0600) and OUT/device.pem,
valid 30 days (--days, at most 90), naming drawbridge-dev:app/APP. Simulators,
emulators and CI jobs sign client_data_hash with it (docs/protocol.md,
"Development attestation"). Existing files are never overwritten.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if caDir == "" || out == "" || !devkey.ValidApp(app) || days < 0 || days > 90 {
				return usagef("dev-device needs --ca DIR, --out DIR and --app APP (letters, digits, '.', '_', '-'), and --days within 1..90 if given")
			}
			ca, caKey, err := devkey.ReadCA(caDir)
			if err != nil {
				return usagef("--ca: %v", err)
			}
			a, err := devkey.NewAttestor(ca, caKey, app, time.Now(), time.Duration(days)*24*time.Hour)
			if err != nil {
				return err
			}
			if err := devkey.WriteAttestor(out, a); err != nil {
				return err
			}
			leaf, _ := x509.ParseCertificate(a.Chain[0])
			sum := sha256.Sum256(leaf.RawSubjectPublicKeyInfo)
			fmt.Fprintf(cmd.OutOrStdout(), "development device for %s, key id %s, valid until %s\n  certificate: %s\n  private key: %s\n",
				app, base64.StdEncoding.EncodeToString(sum[:]), leaf.NotAfter.UTC().Format(time.RFC3339),
				filepath.Join(out, devkey.DeviceCertFile), filepath.Join(out, devkey.DeviceKeyFile))
			return nil
		},
	}
	cmd.Flags().StringVar(&caDir, "ca", "", "development CA `DIR` (ca.pem, ca.key)")
	cmd.Flags().StringVar(&app, "app", "", "the app id the device is for")
	cmd.Flags().StringVar(&out, "out", "", "output `DIR`")
	cmd.Flags().IntVar(&days, "days", 0, "lifetime in days (default 30, at most 90)")
	return cmd
}
