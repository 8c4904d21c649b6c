package gateway

import (
	"encoding/json"
	"testing"
	"time"
)

func TestDecisionLineIsJSON(t *testing.T) {
	d := decisionLine{
		time: time.Date(2026, 11, 27, 1, 2, 3, 4, time.UTC), decision: "deny", route: "api", layer: "jwt",
		reason: "jwt.expired", method: "GET", path: "/api/x", clientIP: "192.0.2.1", requestID: "abc",
		latencyUS: 42, cause: "token: \"exp\" in the past\n\x01\xff<tab>\t\\",
	}
	var got map[string]any
	if err := json.Unmarshal(d.appendJSON(nil), &got); err != nil {
		t.Fatalf("%s: %v", d.appendJSON(nil), err)
	}
	want := map[string]any{
		"time": "2026-11-27T01:02:03.000000004Z", "level": "INFO", "msg": "decision", "decision": "deny",
		"route": "api", "layer": "jwt", "reason": "jwt.expired", "method": "GET", "path": "/api/x",
		"client_ip": "192.0.2.1", "request_id": "abc", "latency_us": float64(42),
		"cause": "token: \"exp\" in the past\n\x01\ufffd<tab>\t\\",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %#v, want %#v", k, got[k], v)
		}
	}
}

func FuzzAppendJSONString(f *testing.F) {
	for _, s := range []string{"", "plain", "q\"uote", "\x00\x1f", "\xff\xfe", "é€𝄞"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var got string
		if err := json.Unmarshal(appendJSONString(nil, s), &got); err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		want, _ := json.Marshal(s)
		var w string
		_ = json.Unmarshal(want, &w)
		if got != w {
			t.Fatalf("%q: got %q, want %q", s, got, w)
		}
	})
}
