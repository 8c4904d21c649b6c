package androidkey

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
)

// MaxStatusListSize caps the status list ParseStatusList and
// ReadStatusList accept. Google's published list is far smaller; the cap
// only keeps a broken or hostile file from exhausting memory.
const MaxStatusListSize = 16 << 20

// maxSerialHexLen caps a status-list key: RFC 5280 §4.1.2.2 limits serial
// numbers to 20 octets (40 hex digits); non-conforming CAs get some slack.
const maxSerialHexLen = 64

// Status is one entry of the attestation status list
// (https://developer.android.com/privacy-and-security/security-key-attestation#certificate_status).
type Status struct {
	// Status is REVOKED or SUSPENDED in Google's list. Verify refuses any
	// listed serial whatever its status says: the list only names
	// certificates that must not be trusted.
	Status string `json:"status"`
	// Reason is e.g. KEY_COMPROMISE, CA_COMPROMISE, SUPERSEDED or
	// SOFTWARE_FLAW.
	Reason  string `json:"reason,omitempty"`
	Comment string `json:"comment,omitempty"`
	Expires string `json:"expires,omitempty"`
}

// StatusList is a parsed attestation status list: certificate serial
// numbers that must not be trusted. The zero value and nil list nothing.
type StatusList struct {
	entries map[string]Status
}

// ReadStatusList reads and parses a status list of at most
// MaxStatusListSize bytes.
func ReadStatusList(r io.Reader) (*StatusList, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxStatusListSize+1))
	if err != nil {
		return nil, fmt.Errorf("androidkey: reading status list: %w", err)
	}
	return ParseStatusList(b)
}

// ParseStatusList parses Google's status-list JSON:
//
//	{"entries": {"<serial>": {"status": "REVOKED", "reason": "KEY_COMPROMISE"}, ...}}
//
// Keys are certificate serial numbers in hexadecimal, as Google publishes
// them (lowercase, no leading zeros); upper case and leading zeros are
// accepted and normalized. Every key is read as hex, including keys made
// only of decimal digits: Google's own test file mixes in decimal-looking
// keys, but nothing in a key says which base it is in, the live list is
// hex, and reading a key in a second base would refuse certificates the
// publisher never named. A key that is not hex, a value that is not an
// object, or a document without an "entries" object makes the whole list
// an error: a list that cannot be read entirely is not used at all.
func ParseStatusList(b []byte) (*StatusList, error) {
	if len(b) > MaxStatusListSize {
		return nil, fmt.Errorf("androidkey: status list larger than %d bytes", MaxStatusListSize)
	}
	var doc struct {
		Entries map[string]json.RawMessage `json:"entries"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("androidkey: status list: %w", err)
	}
	if doc.Entries == nil {
		return nil, errors.New("androidkey: status list has no entries object")
	}
	l := &StatusList{entries: make(map[string]Status, len(doc.Entries))}
	for key, raw := range doc.Entries {
		serial, ok := parseSerialHex(key)
		if !ok {
			return nil, fmt.Errorf("androidkey: status list key %.80q is not a hex serial number", key)
		}
		var st *Status
		if err := json.Unmarshal(raw, &st); err != nil || st == nil {
			return nil, fmt.Errorf("androidkey: status list entry %.80q is not an object", key)
		}
		l.entries[serial.Text(16)] = *st
	}
	return l, nil
}

// Lookup reports the status of the certificate with this serial number,
// and whether it is listed.
func (l *StatusList) Lookup(serial *big.Int) (Status, bool) {
	if l == nil || serial == nil || serial.Sign() < 0 {
		return Status{}, false
	}
	st, ok := l.entries[serial.Text(16)]
	return st, ok
}

// Len is the number of listed serial numbers.
func (l *StatusList) Len() int {
	if l == nil {
		return 0
	}
	return len(l.entries)
}

func parseSerialHex(s string) (*big.Int, bool) {
	if s == "" || len(s) > maxSerialHexLen {
		return nil, false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return nil, false
		}
	}
	return new(big.Int).SetString(s, 16)
}
