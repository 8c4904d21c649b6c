package cli

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/drawbridge-gw/drawbridge/internal/httpsig"
)

func newSignatureCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "signature",
		Short: "Show and check HTTP message signatures (RFC 9421)",
		Args:  noSubcommandArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
		// For noSubcommandArgs: cobra's root uses 2 too.
		SuggestionsMinimumDistance: 2,
	}
	cmd.AddCommand(newSignatureBaseCmd(), newSignatureVerifyCmd())
	return cmd
}

// messageFlags name the HTTP message a signature command reads.
type messageFlags struct {
	request, related, origin string
}

func (f *messageFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.request, "request", "", "`FILE` holding the HTTP request or response in wire form (CRLF or LF line ends)")
	cmd.Flags().StringVar(&f.related, "related-request", "", "`FILE` holding the request a response answers, for components with the req parameter")
	cmd.Flags().StringVar(&f.origin, "origin", "", "public origin the client addressed, such as https://api.example.com (default: https and the Host field)")
}

// read loads the message. A file that cannot be read is an error (exit 1);
// one that is not an HTTP message, or a bad flag, is a usage error.
func (f *messageFlags) read() (httpsig.Message, error) {
	if f.request == "" {
		return httpsig.Message{}, usagef("--request FILE is required")
	}
	var origin httpsig.Origin
	if f.origin != "" {
		o, err := httpsig.ParseOrigin(f.origin)
		if err != nil {
			return httpsig.Message{}, usagef("--origin: %v", err)
		}
		origin = o
	}
	msg, err := readMessageFile(f.request, origin)
	if err != nil {
		return msg, err
	}
	if f.related != "" {
		if msg.Response == nil {
			return msg, usagef("--related-request applies to a response, and %s is a request", f.request)
		}
		rel, err := readMessageFile(f.related, origin)
		if err != nil {
			return msg, err
		}
		if rel.Request == nil {
			return msg, usagef("%s is not a request", f.related)
		}
		msg.Request = rel.Request
	}
	return msg, nil
}

func readMessageFile(name string, origin httpsig.Origin) (httpsig.Message, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return httpsig.Message{}, err
	}
	msg, err := httpsig.ReadMessage(data, origin)
	if err != nil {
		return msg, usagef("%s: %v", name, err)
	}
	return msg, nil
}

func newSignatureBaseCmd() *cobra.Command {
	var mf messageFlags
	var input, label string
	cmd := &cobra.Command{
		Use:   "base --request FILE --input SIGNATURE-INPUT",
		Short: "Print the signature base a Signature-Input covers in a message",
		Long: `Print the signature base (RFC 9421 §2.5) that a signature covers: the bytes
its signer signed, rebuilt from the HTTP message in --request and the
Signature-Input field value in --input, such as

  --input 'sig1=("@method" "@authority" "@path");created=1618884473;keyid="k"'

--label selects a signature when the field holds several (default: the
first). The base is printed exactly, without a trailing newline, so that it
can be piped to a signing or verifying tool. For a response whose signature
covers request components (req), give the request in --related-request.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if input == "" {
				return usagef("--input SIGNATURE-INPUT is required")
			}
			msg, err := mf.read()
			if err != nil {
				return err
			}
			base, err := httpsig.Base(msg, input, label)
			if err != nil {
				if r := httpsig.ReasonOf(err); r == httpsig.ReasonMalformedInput || r == httpsig.ReasonTooLarge || r == httpsig.ReasonMissing {
					return usagef("--input: %v", err)
				}
				return err
			}
			_, err = cmd.OutOrStdout().Write(base)
			return err
		},
	}
	mf.register(cmd)
	cmd.Flags().StringVar(&input, "input", "", "the Signature-Input field `VALUE`")
	cmd.Flags().StringVar(&label, "label", "", "the signature's `LABEL` (default: the first)")
	return cmd
}

// verdict is what 'signature verify' prints.
type verdict struct {
	Valid   bool       `json:"valid"`
	Reason  string     `json:"reason,omitempty"`
	Detail  string     `json:"detail,omitempty"`
	Label   string     `json:"label,omitempty"`
	KeyID   string     `json:"keyid,omitempty"`
	Alg     string     `json:"alg,omitempty"`
	Covered []string   `json:"covered"`
	Created *time.Time `json:"created,omitempty"`
	Expires *time.Time `json:"expires,omitempty"`
	Nonce   string     `json:"nonce,omitempty"`
	Tag     string     `json:"tag,omitempty"`
	Digest  string     `json:"content_digest,omitempty"`
}

func newSignatureVerifyCmd() *cobra.Command {
	var mf messageFlags
	var keyFile, label, alg, atFlag, require string
	var allowEmpty bool
	cmd := &cobra.Command{
		Use:   "verify --request FILE --key FILE",
		Short: "Verify a message's signature and print a JSON verdict",
		Long: `Verify the signature of the HTTP message in --request (RFC 9421) with the key
in --key, and print a JSON verdict: valid, the reason code when refused,
the covered components, keyid, alg, created and expires.

The key file is a PEM public key (SPKI or PKCS #1), a PEM private key whose
public half is used, a JWK, or a base64 shared secret (hmac-sha256). It is
used for any keyid. Its algorithm follows from its type (RSA means
rsa-pss-sha512) unless --alg names it; rsa-v1_5-sha256 only with --alg.

The signature's created and expires are checked against --at (RFC 3339,
default: now) with a maximum age of 5 minutes, and Content-Digest against
the body when present. No particular components are required unless
--require lists them (comma-separated, e.g. '@method,@authority,@path'); a
signature covering nothing is refused unless --allow-empty.

Exit status: 0 valid, 1 refused (or a file that cannot be read), 2 bad
usage.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ver, err := verifierFromFlags(keyFile, alg, atFlag, require)
			if err != nil {
				return err
			}
			ver.Label, ver.AllowEmpty = label, allowEmpty
			msg, err := mf.read()
			if err != nil {
				return err
			}
			res, err := ver.Verify(cmd.Context(), msg)
			v := verdict{Valid: err == nil, Label: res.Label, KeyID: res.KeyID, Alg: string(res.Algorithm),
				Covered: res.Covered, Nonce: res.Nonce, Tag: res.Tag, Digest: res.Digest}
			if v.Covered == nil {
				v.Covered = []string{}
			}
			if v.Alg == "" {
				v.Alg = string(res.Alg)
			}
			if !res.Created.IsZero() {
				v.Created = &res.Created
			}
			if !res.Expires.IsZero() {
				v.Expires = &res.Expires
			}
			if err != nil {
				v.Reason, v.Detail = httpsig.ReasonOf(err), err.Error()
			}
			enc := json.NewEncoder(cmd.OutOrStdout())
			enc.SetIndent("", "  ")
			if werr := enc.Encode(v); werr != nil {
				return werr
			}
			if err != nil {
				return silentError{ExitRefused}
			}
			return nil
		},
	}
	mf.register(cmd)
	cmd.Flags().StringVar(&keyFile, "key", "", "`FILE` holding the verification key")
	cmd.Flags().StringVar(&label, "label", "", "the signature's `LABEL` (default: the first)")
	cmd.Flags().StringVar(&alg, "alg", "", "the key's `ALGORITHM`: hmac-sha256, ed25519, ecdsa-p256-sha256, rsa-pss-sha512 or rsa-v1_5-sha256")
	cmd.Flags().StringVar(&atFlag, "at", "", "verification `TIME`, RFC 3339 (default: now)")
	cmd.Flags().StringVar(&require, "require", "", "`COMPONENTS` the signature must cover, comma-separated")
	cmd.Flags().BoolVar(&allowEmpty, "allow-empty", false, "accept a signature that covers no component (RFC 9421 §7.2.1)")
	return cmd
}

// verifierFromFlags builds the verifier the flags describe.
func verifierFromFlags(keyFile, alg, atFlag, require string) (*httpsig.Verifier, error) {
	if keyFile == "" {
		return nil, usagef("--key FILE is required")
	}
	a := httpsig.Algorithm(alg)
	switch a {
	case "", httpsig.HMACSHA256, httpsig.Ed25519, httpsig.ECDSAP256SHA256, httpsig.RSAPSSSHA512, httpsig.RSAV15SHA256:
	default:
		return nil, usagef("--alg %q is not one of hmac-sha256, ed25519, ecdsa-p256-sha256, rsa-pss-sha512, rsa-v1_5-sha256", alg)
	}
	data, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, err
	}
	key, err := httpsig.ParseKey(data, a)
	if err != nil {
		return nil, usagef("--key %s: %v", keyFile, err)
	}
	ver := &httpsig.Verifier{
		Keys:     httpsig.KeyResolverFunc(func(context.Context, string) (httpsig.Key, error) { return key, nil }),
		Required: []string{},
		Digest:   httpsig.DigestIfPresent,
	}
	if a != "" {
		ver.Algorithms = []httpsig.Algorithm{a}
	}
	if atFlag != "" {
		at, err := time.Parse(time.RFC3339, atFlag)
		if err != nil {
			return nil, usagef("--at %q is not an RFC 3339 time such as 2021-04-20T02:07:55Z", atFlag)
		}
		ver.Now = func() time.Time { return at }
	}
	for c := range strings.SplitSeq(require, ",") {
		if c = strings.TrimSpace(c); c == "" {
			continue
		}
		if _, err := httpsig.ParseComponent(c); err != nil {
			return nil, usagef("--require: %v", err)
		}
		ver.Required = append(ver.Required, c)
	}
	return ver, nil
}
