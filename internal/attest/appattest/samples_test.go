package appattest

import (
	"bytes"
	"encoding/base64"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/drawbridge-gw/drawbridge/internal/attest"
	"github.com/google/go-cmp/cmp"
)

// Every real attestation is valid at its recorded time, with the facts the
// vectors record.
func TestRealAttestationsValid(t *testing.T) {
	dir := needVectors(t)
	vs := attestationVectors(t, dir)
	if len(vs) != 14 {
		t.Errorf("found %d attestation vectors, the README lists 14", len(vs))
	}
	for _, v := range vs {
		t.Run(v.Name, func(t *testing.T) {
			if v.Expected != "valid" {
				t.Fatalf("vector expects %q; only valid attestations are recorded", v.Expected)
			}
			res := VerifyAttestation(v.raw(t), v.expect(t), v.VerifiedAt)
			if !res.Valid {
				t.Fatalf("not valid: %v", res.Reasons)
			}
			want := attest.Facts{
				Platform:    "apple",
				AppID:       v.AppID,
				Environment: v.Environment,
				KeyID:       v.KeyID,
				PublicKey:   v.publicKey(t),
				Counter:     v.ExpectedCounter,
				NotAfter:    v.LeafValidity[1],
				AppVersion:  res.Facts.AppVersion,
				Receipt:     res.Facts.Receipt,
			}
			if d := cmp.Diff(want, res.Facts); d != "" {
				t.Errorf("facts (-want +got):\n%s", d)
			}
			if v.Name == "apple-doc-guide-2026-attestation" && res.Facts.AppVersion != "1" {
				t.Errorf("AppVersion = %q, want the bundle version extension's \"1\"", res.Facts.AppVersion)
			}

			// Without a key ID from the app (nil), still valid.
			exp := v.expect(t)
			exp.KeyID = nil
			if res := VerifyAttestation(v.raw(t), exp, v.VerifiedAt); !res.Valid {
				t.Errorf("without KeyID: %v", res.Reasons)
			}
			// The default allow-list is production only.
			exp.Environments = nil
			res = VerifyAttestation(v.raw(t), exp, v.VerifiedAt)
			if v.Environment == Production && !res.Valid {
				t.Errorf("production sample, default environments: %v", res.Reasons)
			}
			if v.Environment == Development && res.Reason != ReasonEnvironmentNotAllowed {
				t.Errorf("development sample, default environments: reasons %v, want %s", res.Reasons, ReasonEnvironmentNotAllowed)
			}
		})
	}
}

// The embedded receipt is Apple's and holds what the vectors record.
func TestRealAttestationReceipts(t *testing.T) {
	dir := needVectors(t)
	for _, v := range attestationVectors(t, dir) {
		t.Run(v.Name, func(t *testing.T) {
			res := VerifyAttestation(v.raw(t), v.expect(t), v.VerifiedAt)
			rc, rres := VerifyReceipt(res.Facts.Receipt, v.VerifiedAt, nil)
			if !rres.Valid {
				t.Fatalf("receipt: %v", rres.Reasons)
			}
			if rc.Type != ReceiptTypeAttest || rc.AppID != v.AppID || rc.KeyID != v.KeyID ||
				!bytes.Equal(rc.ClientHash, b64(t, v.ClientDataHash)) || !bytes.Equal(rc.PublicKey, v.publicKey(t)) {
				t.Errorf("receipt %+v does not describe the attestation", rc)
			}
			for k, want := range v.ReceiptFields {
				var got string
				switch k {
				case "2_app_id":
					got = rc.AppID
				case "4_client_hash_utf8":
					got = string(rc.ClientHash)
				case "5_token":
					got = string(rc.Token)
				case "6_type":
					got = rc.Type
				case "7_environment":
					got = rc.Environment
				case "12_creation_time":
					got, want = rc.CreationTime.String(), parseTime(t, want).String()
				case "21_expiration_time":
					got, want = rc.ExpirationTime.String(), parseTime(t, want).String()
				default:
					t.Errorf("unknown receipt field %q in vector", k)
				}
				if got != want {
					t.Errorf("receipt %s = %q, want %q", k, got, want)
				}
			}
		})
	}
}

// Each real attestation is refused at today's date, for another challenge,
// another app, another key ID and an environment the caller does not allow.
func TestRealAttestationsRefused(t *testing.T) {
	dir := needVectors(t)
	for _, v := range attestationVectors(t, dir) {
		other := Production
		if v.Environment == Production {
			other = Development
		}
		cases := []struct {
			name   string
			change func(*Expect, *time.Time)
			want   string
		}{
			{"today", func(_ *Expect, at *time.Time) { *at = today }, ReasonCertExpired},
			{"a second after the leaf expired", func(_ *Expect, at *time.Time) { *at = v.LeafValidity[1].Add(time.Second) }, ReasonCertExpired},
			{"a second before the leaf is valid", func(_ *Expect, at *time.Time) { *at = v.LeafValidity[0].Add(-time.Second) }, ReasonCertNotYetValid},
			{"another challenge", func(e *Expect, _ *time.Time) { e.ClientDataHash = append([]byte("x"), e.ClientDataHash...) }, ReasonNonceMismatch},
			{"another app", func(e *Expect, _ *time.Time) { e.BundleID += ".other" }, ReasonRPIDMismatch},
			{"another team", func(e *Expect, _ *time.Time) { e.TeamID = "AAAAAAAAAA" }, ReasonRPIDMismatch},
			{"another key id", func(e *Expect, _ *time.Time) { e.KeyID = bytes.Repeat([]byte{1}, 32) }, ReasonKeyIDMismatch},
			{"environment not allowed", func(e *Expect, _ *time.Time) { e.Environments = []string{other} }, ReasonEnvironmentNotAllowed},
		}
		for _, c := range cases {
			t.Run(v.Name+"/"+c.name, func(t *testing.T) {
				exp, at := v.expect(t), v.VerifiedAt
				c.change(&exp, &at)
				res := VerifyAttestation(v.raw(t), exp, at)
				if res.Valid || res.Reason != c.want {
					t.Errorf("valid=%v reasons=%v, want first reason %s", res.Valid, res.Reasons, c.want)
				}
			})
		}
	}
}

// The leaf's notBefore is inclusive: bas-d's sample is verified exactly then.
func TestRealAttestationNotBeforeInclusive(t *testing.T) {
	dir := needVectors(t)
	for _, v := range attestationVectors(t, dir) {
		if v.Name != "bas-d-attestation" {
			continue
		}
		if !v.VerifiedAt.Equal(v.LeafValidity[0]) {
			t.Fatalf("bas-d verified_at_time %v is not the leaf notBefore %v", v.VerifiedAt, v.LeafValidity[0])
		}
		if res := VerifyAttestation(v.raw(t), v.expect(t), v.VerifiedAt); !res.Valid {
			t.Errorf("at notBefore: %v", res.Reasons)
		}
		if res := VerifyAttestation(v.raw(t), v.expect(t), v.VerifiedAt.Add(-time.Nanosecond)); res.Reason != ReasonCertNotYetValid {
			t.Errorf("a nanosecond before notBefore: %v", res.Reasons)
		}
		return
	}
	t.Fatal("bas-d-attestation vector not found")
}

// rejectReasons maps the wording of the vectors' expected_rejects to codes.
// "AAGUID mismatch" is a production AAGUID where the caller allows only
// development: the AAGUID is well-formed, its environment is not allowed.
var rejectReasons = map[string]string{
	"certificate expired": ReasonCertExpired,
	"nonce mismatch":      ReasonNonceMismatch,
	"RP ID mismatch":      ReasonRPIDMismatch,
	"AAGUID mismatch":     ReasonEnvironmentNotAllowed,
}

// The Apple guide samples' expected_rejects, as the source tests state them.
func TestRealAttestationExpectedRejects(t *testing.T) {
	dir := needVectors(t)
	n := 0
	for _, v := range attestationVectors(t, dir) {
		for mutation, outcome := range v.ExpectedRejects {
			n++
			t.Run(v.Name+"/"+mutation, func(t *testing.T) {
				want, ok := rejectReasons[outcome]
				if !ok {
					t.Fatalf("no reason code for %q", outcome)
				}
				exp, at := v.expect(t), v.VerifiedAt
				key, val, _ := strings.Cut(mutation, "=")
				switch key {
				case "verified_at_time":
					at = parseTime(t, val)
				case "challenge":
					// The guide samples pass the raw challenge as clientDataHash.
					exp.ClientDataHash = []byte(val)
				case "app_id":
					exp.TeamID, exp.BundleID = splitAppID(val)
				case "environment":
					exp.Environments = []string{val}
				default:
					t.Fatalf("unknown mutation %q", mutation)
				}
				res := VerifyAttestation(v.raw(t), exp, at)
				if res.Valid || res.Reason != want {
					t.Errorf("valid=%v reasons=%v, want %s", res.Valid, res.Reasons, want)
				}
			})
		}
	}
	if n != 4 {
		t.Errorf("%d expected_rejects entries, the README records 4", n)
	}
}

// The 2026 guide sample records the RP ID hash and the nonce themselves.
func TestRealAttestationRecordedNonce(t *testing.T) {
	dir := needVectors(t)
	for _, v := range attestationVectors(t, dir) {
		if v.NonceB64 == "" {
			continue
		}
		var obj attestationObject
		if err := dec.Unmarshal(v.raw(t), &obj); err != nil {
			t.Fatal(err)
		}
		nonce := sha256Sum(obj.AuthData, b64(t, v.ClientDataHash))
		if got := base64.StdEncoding.EncodeToString(nonce); got != v.NonceB64 {
			t.Errorf("%s: nonce %s, recorded %s", v.Name, got, v.NonceB64)
		}
		if got := base64.StdEncoding.EncodeToString(obj.AuthData[:32]); got != v.RPIDHashB64 {
			t.Errorf("%s: RP ID hash %s, recorded %s", v.Name, got, v.RPIDHashB64)
		}
	}
}

func TestRealAssertions(t *testing.T) {
	dir := needVectors(t)
	vs := assertionVectors(t, dir)
	if len(vs) != 9 {
		t.Errorf("found %d assertion vectors, the README lists 9", len(vs))
	}
	atts := map[string]attestationVector{}
	for _, a := range attestationVectors(t, dir) {
		atts[a.Name+".json"] = a
	}
	for i, v := range vs {
		t.Run(v.Name, func(t *testing.T) {
			exp := v.expect(t)
			res := VerifyAssertion(v.raw(t), exp)
			if !res.Valid || res.Facts.Counter != v.ExpectedCounter {
				t.Fatalf("valid=%v reasons=%v counter=%d, want valid with counter %d", res.Valid, res.Reasons, res.Facts.Counter, v.ExpectedCounter)
			}
			if v.KeyID != "" && res.Facts.KeyID != v.KeyID {
				t.Errorf("KeyID %s, want %s", res.Facts.KeyID, v.KeyID)
			}
			if res.Facts.AppID != v.AppID {
				t.Errorf("AppID %s, want %s", res.Facts.AppID, v.AppID)
			}

			// The stored counter has reached the new one: a replay.
			for _, prev := range []uint64{v.ExpectedCounter, v.ExpectedCounter + 1, 1 << 40} {
				e := exp
				e.PreviousCounter = prev
				if res := VerifyAssertion(v.raw(t), e); res.Valid || res.Reason != ReasonCounterNotIncreased {
					t.Errorf("previous counter %d: valid=%v reasons=%v", prev, res.Valid, res.Reasons)
				}
			}
			if v.RejectIfPreviousGE != 0 && v.RejectIfPreviousGE != v.ExpectedCounter {
				t.Errorf("vector rejects from %d but its counter is %d", v.RejectIfPreviousGE, v.ExpectedCounter)
			}

			e := exp
			e.ClientData = append(bytes.Clone(exp.ClientData), '!')
			if res := VerifyAssertion(v.raw(t), e); res.Reason != ReasonBadSignature {
				t.Errorf("other client data: %v", res.Reasons)
			}
			e = exp
			e.PublicKey = vs[(i+1)%len(vs)].expect(t).PublicKey
			if res := VerifyAssertion(v.raw(t), e); res.Reason != ReasonBadSignature {
				t.Errorf("another key: %v", res.Reasons)
			}
			e = exp
			e.BundleID += ".other"
			if res := VerifyAssertion(v.raw(t), e); res.Reason != ReasonRPIDMismatch {
				t.Errorf("another app: %v", res.Reasons)
			}

			// End to end: the key stored from the paired attestation.
			if v.PairedAttestation != "" {
				a, ok := atts[v.PairedAttestation]
				if !ok {
					t.Fatalf("paired attestation %s not found", v.PairedAttestation)
				}
				ares := VerifyAttestation(a.raw(t), a.expect(t), a.VerifiedAt)
				e = exp
				e.PublicKey, e.PreviousCounter = ares.Facts.PublicKey, ares.Facts.Counter
				if res := VerifyAssertion(v.raw(t), e); !ares.Valid || !res.Valid || res.Facts.KeyID != ares.Facts.KeyID {
					t.Errorf("with the paired attestation's key: attestation %v, assertion %v", ares.Reasons, res.Reasons)
				}
			}
		})
	}
}

// bas-d's source encodes in base64url; both forms decode to the same bytes.
func TestRealAssertionBase64URLForm(t *testing.T) {
	dir := needVectors(t)
	for _, v := range assertionVectors(t, dir) {
		if v.AssertionB64URLSrc == "" {
			continue
		}
		raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(v.AssertionB64URLSrc, "="))
		if err != nil || !bytes.Equal(raw, v.raw(t)) {
			t.Errorf("%s: base64url form differs (%v)", v.Name, err)
		}
	}
}

func TestRealReceipts(t *testing.T) {
	dir := needVectors(t)
	n := 0
	for _, f := range receiptVectors(t, dir) {
		for i, r := range f.Receipts {
			n++
			t.Run(f.Name+"/"+strconv.Itoa(i), func(t *testing.T) {
				raw := b64(t, r.B64)
				rc, res := VerifyReceipt(raw, r.Timestamp, nil)
				if !res.Valid {
					t.Fatalf("not valid at %v: %v", r.Timestamp, res.Reasons)
				}
				e := r.Expected
				got := map[string]string{
					"clientHashBase64": base64.StdEncoding.EncodeToString(rc.ClientHash),
					"environment":      rc.Environment,
					"token":            string(rc.Token),
					"type":             rc.Type,
					"riskMetric":       "",
					"creationTime":     rc.CreationTime.String(),
					"expirationTime":   rc.ExpirationTime.String(),
					"notBefore":        "",
				}
				want := map[string]string{
					"clientHashBase64": e.ClientHash,
					"environment":      e.Environment,
					"token":            e.Token,
					"type":             e.Type,
					"riskMetric":       e.RiskMetric,
					"creationTime":     parseTime(t, e.CreationTime).String(),
					"expirationTime":   parseTime(t, e.ExpirationTime).String(),
					"notBefore":        "",
				}
				if rc.Type == ReceiptTypeReceipt {
					got["riskMetric"] = strconv.Itoa(rc.RiskMetric)
				}
				if !rc.NotBefore.IsZero() {
					got["notBefore"] = rc.NotBefore.String()
				}
				if e.NotBefore != "" {
					want["notBefore"] = parseTime(t, e.NotBefore).String()
				}
				if d := cmp.Diff(want, got); d != "" {
					t.Errorf("receipt fields (-want +got):\n%s", d)
				}
				if rc.AppID != f.AppID || rc.KeyID != f.KeyID || res.Facts.KeyID != f.KeyID || res.Facts.AppID != f.AppID {
					t.Errorf("app %s key %s, want %s %s", rc.AppID, rc.KeyID, f.AppID, f.KeyID)
				}
				if !bytes.Equal(rc.Raw, raw) {
					t.Error("Raw is not the input")
				}

				if _, res := VerifyReceipt(raw, today, nil); res.Valid ||
					(res.Reason != ReasonCertExpired && res.Reason != ReasonReceiptExpired) {
					t.Errorf("today: valid=%v reasons=%v", res.Valid, res.Reasons)
				}
				if _, res := VerifyReceipt(raw, rc.ExpirationTime.Add(time.Millisecond), nil); res.Valid {
					t.Errorf("after its expiration time: still valid")
				}
			})
		}
	}
	if n != 20 {
		t.Errorf("%d receipts, want the 20 the vectors hold", n)
	}
}

func parseTime(tb testing.TB, s string) time.Time {
	tb.Helper()
	at, err := time.Parse(time.RFC3339, s)
	if err != nil {
		tb.Fatalf("time %q: %v", s, err)
	}
	return at
}
