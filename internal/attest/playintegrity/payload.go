package playintegrity

import (
	"encoding/json"
	"errors"
	"strconv"

	"github.com/drawbridge-gw/drawbridge/internal/strictjson"
)

// verdict is what the checks read from the signed payload. Fields the
// payload lacks stay zero and their has* flag false.
type verdict struct {
	requestPackage string
	nonce          string
	hasNonce       bool
	requestHash    string
	hasRequestHash bool
	timestampMS    int64

	appVerdict     string
	packageName    string
	hasPackageName bool
	certDigests    []string
	versionCode    int64
	hasVersion     bool

	deviceLabels []string

	licensing string
	testing   bool
}

// Limits of the payload parser.
const (
	// maxJSONDepth bounds nesting: Google's payload is three deep.
	maxJSONDepth = 16
	// maxListItems bounds the label and digest lists.
	maxListItems = 16
	// maxLabelLen bounds one label or verdict string.
	maxLabelLen = 64
)

var (
	errMalformed = errors.New("malformed")
	errDuplicate = errors.New("duplicate member")
)

// parsePayload reads the signed payload. It returns ReasonDuplicateKey
// when an object anywhere names a member twice, ReasonMalformedPayload
// when the payload is not a JSON object or a member the checks read has
// the wrong type or is missing. Members it does not read are allowed, as
// Google adds signals over time (environmentDetails, deviceAttributes,
// recentDeviceActivity ...), but must still be well-formed JSON.
//
// The payload is decoded into maps, never structs: encoding/json matches
// struct fields case-insensitively, so {"nonce": ..., "NONCE": ...} would
// collide there, while here only the exact member names are read.
func parsePayload(b []byte) (*verdict, string) {
	m, err := parseObject(b)
	if errors.Is(err, errDuplicate) {
		return nil, ReasonDuplicateKey
	}
	if err != nil {
		return nil, ReasonMalformedPayload
	}
	v := &verdict{}
	if !v.read(m) {
		return nil, ReasonMalformedPayload
	}
	return v, ""
}

// read fills v from the payload object, and reports whether every member
// it reads has the documented type. Google's format:
// https://developer.android.com/google/play/integrity/verdicts
func (v *verdict) read(m map[string]any) bool {
	rd, ok1 := object(m, "requestDetails", true)
	app, ok2 := object(m, "appIntegrity", true)
	dev, ok3 := object(m, "deviceIntegrity", true)
	acct, ok4 := object(m, "accountDetails", false)
	_, ok5 := object(m, "environmentDetails", false)
	testing, ok6 := object(m, "testingDetails", false)
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) {
		return false
	}
	ok := true
	v.requestPackage, _, ok1 = str(rd, "requestPackageName", true, 255)
	v.nonce, v.hasNonce, ok2 = str(rd, "nonce", false, 512)
	v.requestHash, v.hasRequestHash, ok3 = str(rd, "requestHash", false, 512)
	v.timestampMS, _, ok4 = integer(rd, "timestampMillis", true)
	ok = ok && ok1 && ok2 && ok3 && ok4

	v.appVerdict, _, ok1 = str(app, "appRecognitionVerdict", true, maxLabelLen)
	v.packageName, v.hasPackageName, ok2 = str(app, "packageName", false, 255)
	v.certDigests, ok3 = strList(app, "certificateSha256Digest", 128)
	v.versionCode, v.hasVersion, ok4 = integer(app, "versionCode", false)
	ok = ok && ok1 && ok2 && ok3 && ok4

	// An empty or absent list is a device that meets no integrity level.
	v.deviceLabels, ok1 = strList(dev, "deviceRecognitionVerdict", maxLabelLen)
	ok = ok && ok1 && labels(v.deviceLabels) && label(v.appVerdict)

	if acct != nil {
		v.licensing, _, ok1 = str(acct, "appLicensingVerdict", false, maxLabelLen)
		ok = ok && ok1 && (v.licensing == "" || label(v.licensing))
	}
	if testing != nil {
		t, present := testing["isTestingResponse"]
		isBool := false
		v.testing, isBool = t.(bool)
		ok = ok && (!present || isBool)
	}
	return ok
}

// label reports whether s looks like one of Google's verdict labels
// (upper case, digits, underscores): labels are copied into Facts and
// logs, so nothing else is let through.
func label(s string) bool {
	if s == "" || len(s) > maxLabelLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

func labels(l []string) bool {
	for _, s := range l {
		if !label(s) {
			return false
		}
	}
	return true
}

// object returns member name as an object. A missing member is an error
// only when required.
func object(m map[string]any, name string, required bool) (map[string]any, bool) {
	raw, present := m[name]
	if !present {
		return nil, !required
	}
	o, ok := raw.(map[string]any)
	return o, ok
}

// str returns member name as a string of at most max bytes.
func str(m map[string]any, name string, required bool, max int) (string, bool, bool) {
	raw, present := m[name]
	if !present {
		return "", false, !required
	}
	s, ok := raw.(string)
	return s, true, ok && len(s) <= max
}

// strList returns member name as an array of at most maxListItems
// strings of at most max bytes each; absent is an empty list.
func strList(m map[string]any, name string, max int) ([]string, bool) {
	raw, present := m[name]
	if !present {
		return nil, true
	}
	arr, ok := raw.([]any)
	if !ok || len(arr) > maxListItems {
		return nil, false
	}
	out := make([]string, 0, len(arr))
	for _, x := range arr {
		s, ok := x.(string)
		if !ok || len(s) > max {
			return nil, false
		}
		out = append(out, s)
	}
	return out, true
}

// integer returns member name as a non-negative int64. Google writes
// int64 fields as decimal strings ("timestampMillis": "1675655009345",
// the protobuf JSON mapping); a plain JSON integer is read too.
func integer(m map[string]any, name string, required bool) (int64, bool, bool) {
	raw, present := m[name]
	if !present {
		return 0, false, !required
	}
	var s string
	switch x := raw.(type) {
	case string:
		s = x
	case json.Number:
		s = string(x)
	default:
		return 0, true, false
	}
	// Digits only: no sign, exponent, fraction or white space.
	if s == "" || len(s) > 19 {
		return 0, true, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, true, false
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, true, err == nil
}

// parseObject decodes a JSON object strictly (package strictjson): no
// member named twice at any depth (RFC 8725 §2.6), no trailing data.
func parseObject(b []byte) (map[string]any, error) {
	m, err := strictjson.ParseObjectDepth(b, maxJSONDepth)
	if errors.Is(err, strictjson.ErrMalformed) {
		return nil, errMalformed
	}
	if errors.Is(err, strictjson.ErrDuplicate) {
		return nil, errDuplicate
	}
	return m, err
}
