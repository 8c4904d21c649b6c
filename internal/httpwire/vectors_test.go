package httpwire

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// vectorsFile is the shared attack catalogue, read in place.
func vectorsFile(t *testing.T) []byte {
	t.Helper()
	dir := os.Getenv("DRAWBRIDGE_VECTORS")
	if dir == "" {
		dir = filepath.Join("..", "..", "..", "shared", "vectors")
	}
	path := filepath.Join(dir, "standards", "attacks", "http_attacks.json")
	b, err := os.ReadFile(path)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("attack vectors missing under CI: %v", err)
		}
		t.Skipf("SKIPPING the HTTP attack vectors: %v (set DRAWBRIDGE_VECTORS to the vectors directory; under CI=true this fails)", err)
	}
	return b
}

// vectorRequests returns the raw requests of the cases, keyed by id, with
// "#i" appended for the i-th request of a case that lists several.
func vectorRequests(t *testing.T) map[string]string {
	var file struct {
		Cases []struct {
			ID         string          `json:"id"`
			RawRequest json.RawMessage `json:"raw_request"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(vectorsFile(t), &file); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, c := range file.Cases {
		var one string
		var many []string
		if json.Unmarshal(c.RawRequest, &one) == nil {
			out[c.ID] = one
		} else if err := json.Unmarshal(c.RawRequest, &many); err == nil {
			for i, r := range many {
				out[fmt.Sprintf("%s#%d", c.ID, i)] = r
			}
		} else {
			t.Fatalf("%s: raw_request is neither a string nor a list: %v", c.ID, err)
		}
	}
	return out
}

// latin1 turns the JSON text of a request into its octets: per the file's
// encoding note, U+0080..U+00FF stand for single octets (ISO-8859-1).
func latin1(t *testing.T, id, s string) string {
	b := make([]byte, 0, len(s))
	for _, r := range s {
		if r > 0xff {
			t.Fatalf("%s: U+%04X does not fit one octet", id, r)
		}
		b = append(b, byte(r))
	}
	return string(b)
}

// vectorWant is the guard's verdict on every request of the cases it
// handles. nil means the handler must see the request unchanged.
var vectorWant = map[string][]event{
	"HTTP-01":    refused(ReasonCLTE),
	"HTTP-02":    refused(ReasonCLTE),
	"HTTP-03.01": refused(ReasonBadTransferEncoding), // xchunked
	"HTTP-03.02": refused(ReasonBadHeader),           // space before colon
	"HTTP-03.03": refused(ReasonBadTransferEncoding), // second Transfer-Encoding
	"HTTP-03.04": refused(ReasonBadTransferEncoding), // cow, chunked
	"HTTP-03.05": refused(ReasonBadTransferEncoding), // chunked, cow
	"HTTP-03.06": refused(ReasonCLTE),                // HTAB is OWS: chunked, plus Content-Length
	"HTTP-03.07": refused(ReasonBadHeader),           // leading SP
	"HTTP-03.08": refused(ReasonBareLF),
	"HTTP-03.09": refused(ReasonBadHeader), // name without colon, then obs-fold
	"HTTP-03.10": refused(ReasonCLTE),      // case-insensitive: chunked, plus Content-Length
	"HTTP-03.11": refused(ReasonBadTransferEncoding),
	"HTTP-03.12": refused(ReasonBadHeader), // '_' in a field name
	"HTTP-03.13": refused(ReasonBadHeader), // bare CR
	"HTTP-03.14": refused(ReasonBadHeader), // VT
	"HTTP-03.15": refused(ReasonBadTransferEncoding),
	"HTTP-03.16": refused(ReasonBadTransferEncoding),
	"HTTP-04.01": refused(ReasonBadContentLength),
	"HTTP-04.02": refused(ReasonBadContentLength),
	"HTTP-04.03": refused(ReasonBadContentLength),
	"HTTP-04.04": refused(ReasonBadContentLength),
	"HTTP-04.05": refused(ReasonBadContentLength),
	"HTTP-04.06": refused(ReasonBadContentLength),
	"HTTP-04.07": refused(ReasonBadContentLength),
	"HTTP-04.08": {{Method: "POST", Target: "/", Host: "example.com", Body: "abcdef"}},
	"HTTP-04.09": refused(ReasonBadHeader),
	"HTTP-04.10": refused(ReasonBadContentLength),
	"HTTP-05":    refused(ReasonBareLF),
	"HTTP-10#0":  refused(ReasonBadHost), // missing
	"HTTP-10#1":  refused(ReasonBadHost), // duplicated
	"HTTP-10#2":  refused(ReasonBadHost), // userinfo
	"HTTP-10#3":  refused(ReasonBadHost), // port "abc"
	// Trailing OWS is not part of the value; X-Forwarded-Host is the
	// gateway's to strip.
	"HTTP-10#4": {{Method: "GET", Target: "/", Host: "example.com"}},
	// The target's authority wins over Host (RFC 9112 §3.2.2): net/http
	// sets Request.Host from it, and the gateway routes on that one value.
	"HTTP-10#5": {{Method: "GET", Target: "http://evil.example/", Host: "evil.example"}},
	"HTTP-11#3": refused(ReasonBadConnection),
	"HTTP-12":   refused(ReasonH2CUpgrade),
	"HTTP-17":   refused(ReasonBareLF),
}

// vectorCovered lists the cases whose every request the guard must judge.
var vectorCovered = []string{"HTTP-01", "HTTP-02", "HTTP-03.", "HTTP-04.", "HTTP-05", "HTTP-10#", "HTTP-12", "HTTP-17"}

func TestAttackVectors(t *testing.T) {
	raw := vectorRequests(t)
	for id := range raw {
		for _, prefix := range vectorCovered {
			if strings.HasPrefix(id, prefix) {
				if _, ok := vectorWant[id]; !ok {
					t.Errorf("%s: case in the file has no expectation here", id)
				}
			}
		}
	}
	for _, id := range slices.Sorted(maps.Keys(vectorWant)) {
		want := vectorWant[id]
		req, ok := raw[id]
		if !ok {
			t.Errorf("%s: expected case missing from the file", id)
			continue
		}
		t.Run(id, func(t *testing.T) {
			req := latin1(t, id, req)
			if id == "HTTP-03.15" && !strings.Contains(req, "\xff") || id == "HTTP-03.16" && !strings.Contains(req, "\x96") {
				t.Fatalf("raw octet lost: %q", req)
			}
			ts := newTestServer(t, Limits{})
			got := ts.send(req)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("request %q:\nhandler saw\n%s\nwant\n%s", req, fmtEvents(got), fmtEvents(want))
			}
		})
	}
}

// HTTP-07 and HTTP-08 describe their requests rather than spell them out;
// they are generated here as described.
func TestAttackVectorsGenerated(t *testing.T) {
	raw := vectorRequests(t)
	if r := raw["HTTP-07"]; !strings.Contains(r, "repeat to 10000 fields") {
		t.Fatalf("HTTP-07 changed: %q", r)
	}
	if r := raw["HTTP-08"]; !strings.Contains(r, "64 KiB") {
		t.Fatalf("HTTP-08 changed: %q", r)
	}
	var fields strings.Builder
	for i := 1; i <= 10000; i++ {
		fmt.Fprintf(&fields, "X-H%d: a\r\n", i)
	}
	big := strings.Repeat("A", 64<<10)
	tests := []struct {
		name string
		req  string
		want string
	}{
		{"HTTP-07 10000 fields", "GET / HTTP/1.1\r\nHost: example.com\r\n" + fields.String() + "\r\n", ReasonHeadersTooLarge},
		{"HTTP-08 64 KiB request line", "GET /" + big + " HTTP/1.1\r\nHost: example.com\r\nX-Big: " + big + "\r\n\r\n", ReasonURITooLong},
		{"HTTP-08 64 KiB field", "GET / HTTP/1.1\r\nHost: example.com\r\nX-Big: " + big + "\r\n\r\n", ReasonHeadersTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTestServer(t, Limits{})
			if got := ts.send(tt.req); !reflect.DeepEqual(got, refused(tt.want)) {
				t.Errorf("handler saw\n%s\nwant %s", fmtEvents(got), tt.want)
			}
		})
	}
}

// HTTP-11's other requests name end-to-end fields in Connection: not a
// framing matter, so they pass the guard (the gateway strips those fields).
func TestAttackVectorsConnectionTokens(t *testing.T) {
	raw := vectorRequests(t)
	for i := 0; i < 3; i++ {
		id := fmt.Sprintf("HTTP-11#%d", i)
		req, ok := raw[id]
		if !ok {
			t.Fatalf("%s missing from the file", id)
		}
		ts := newTestServer(t, Limits{})
		got := ts.send(req)
		if len(got) != 1 || got[0].Refused != "" || got[0].Target != "/api" {
			t.Errorf("%s: handler saw\n%s", id, fmtEvents(got))
		}
	}
}
