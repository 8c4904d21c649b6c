package androidkey

import (
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func serial(tb testing.TB, s string, base int) *big.Int {
	tb.Helper()
	n, ok := new(big.Int).SetString(s, base)
	if !ok {
		tb.Fatalf("bad serial %q", s)
	}
	return n
}

func readStatusVector(t *testing.T, name string) *StatusList {
	t.Helper()
	f, err := os.Open(filepath.Join(vectorDir(t, "revocation"), name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	l, err := ReadStatusList(f)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return l
}

// TestStatusListGoogleTestFile reads Google's test list, whose keys mix
// hex with decimal-looking strings. Every key is read as hex.
func TestStatusListGoogleTestFile(t *testing.T) {
	l := readStatusVector(t, "google-aka-status-test.json")
	if l.Len() != 5 {
		t.Fatalf("Len = %d, want 5", l.Len())
	}
	st, ok := l.Lookup(serial(t, "cc66e9a93713b6e643b26c15879786f7", 16))
	if !ok || st.Status != "SUSPENDED" || st.Reason != "KEY_COMPROMISE" || st.Comment != "Entry for testing only" {
		t.Errorf("cc66e9…: %+v %v", st, ok)
	}
	// "6681152659205225093" names the serial 0x6681152659205225093 ...
	if st, ok := l.Lookup(serial(t, "6681152659205225093", 16)); !ok || st.Status != "REVOKED" {
		t.Errorf("decimal-looking key read as hex: %+v %v", st, ok)
	}
	// ... not the serial 6681152659205225093 (= 0x5cb838f1fe157a85).
	if _, ok := l.Lookup(serial(t, "6681152659205225093", 10)); ok {
		t.Error("decimal-looking key also read as decimal")
	}
}

func TestStatusListNLWalletFile(t *testing.T) {
	l := readStatusVector(t, "nl-wallet-status-tests.json")
	if l.Len() != 3 {
		t.Fatalf("Len = %d, want 3", l.Len())
	}
	for s, want := range map[string]Status{
		"2c8cdddfd5e03bfc": {Status: "REVOKED", Reason: "KEY_COMPROMISE", Comment: "Key stored on unsecure system", Expires: "2020-11-13"},
		"c8966fcb2fbb0d7a": {Status: "SUSPENDED", Reason: "SOFTWARE_FLAW", Comment: "Bug in keystore causes this key malfunction b/555555"},
		"1":                {Status: "REVOKED"},
	} {
		if got, ok := l.Lookup(serial(t, s, 16)); !ok || got != want {
			t.Errorf("%s: %+v %v", s, got, ok)
		}
	}
}

// TestStatusListNotAppliedToLeaves: the nl-wallet list revokes serial 1,
// the serial of every leaf in the vectors. Applied to leaves it would
// refuse them all; it is not, and the verdicts do not change.
func TestStatusListNotAppliedToLeaves(t *testing.T) {
	l := readStatusVector(t, "nl-wallet-status-tests.json")
	google := readStatusVector(t, "google-aka-status-test.json")
	vectors := loadAndroidVectors(t)
	for _, c := range vectorCases(t) {
		v := vectors[c.vector]
		for _, list := range []*StatusList{l, google} {
			p := c.policy(v)
			p.Revoked = list
			r := Verify(v.chain(t), v.challenge(t), p, v.VerifiedAt)
			if len(r.Reasons) != len(c.reasons) {
				t.Errorf("%s with a status list: %v, want %v", c.vector, r.Reasons, c.reasons)
			}
		}
	}
}

// TestStatusListRevokesRealIntermediates lists the Nokia chain's
// intermediate and root serials, as Google's live list would.
func TestStatusListRevokesRealIntermediates(t *testing.T) {
	vectors := loadAndroidVectors(t)
	v := vectors["warden-nokia-x10-keymaster4-tee"]
	for _, s := range []string{"b7655c8cfa44db91bdf418d40b31c08c", "164FF16DB38AD33D19045F7DC30C7FCC", "00d50ff25ba3f2d6b3"} {
		l, err := ParseStatusList([]byte(`{"entries": {"` + s + `": {"status": "REVOKED", "reason": "KEY_COMPROMISE"}}}`))
		if err != nil {
			t.Fatal(err)
		}
		p := hardwarePolicy(t)(v)
		p.Revoked = l
		if r := Verify(v.chain(t), v.challenge(t), p, v.VerifiedAt); r.Reason != ReasonRevoked || len(r.Reasons) != 1 {
			t.Errorf("%s: %v", s, r.Reasons)
		}
	}
}

func TestParseStatusListRejects(t *testing.T) {
	for _, c := range []struct{ name, doc string }{
		{"not JSON", `{`},
		{"no entries", `{}`},
		{"null entries", `{"entries": null}`},
		{"entries not an object", `{"entries": []}`},
		{"non-hex key", `{"entries": {"12g4": {"status": "REVOKED"}}}`},
		{"signed key", `{"entries": {"-12": {"status": "REVOKED"}}}`},
		{"prefixed key", `{"entries": {"0x12": {"status": "REVOKED"}}}`},
		{"empty key", `{"entries": {"": {"status": "REVOKED"}}}`},
		{"long key", `{"entries": {"` + strings.Repeat("a", 65) + `": {"status": "REVOKED"}}}`},
		{"entry not an object", `{"entries": {"12": "REVOKED"}}`},
		{"null entry", `{"entries": {"12": null}}`},
		{"too large", `{"entries": {}}` + strings.Repeat(" ", MaxStatusListSize)},
	} {
		if _, err := ParseStatusList([]byte(c.doc)); err == nil {
			t.Errorf("%s: accepted", c.name)
		}
	}
	if _, err := ReadStatusList(strings.NewReader(`{"entries": {}}` + strings.Repeat(" ", MaxStatusListSize))); err == nil {
		t.Error("ReadStatusList: oversized list accepted")
	}
	l, err := ParseStatusList([]byte(`{"entries": {}, "extra": 1}`))
	if err != nil || l.Len() != 0 {
		t.Errorf("empty list: %v %v", l, err)
	}
	var nilList *StatusList
	if _, ok := nilList.Lookup(big.NewInt(1)); ok || nilList.Len() != 0 {
		t.Error("nil list lists something")
	}
}
