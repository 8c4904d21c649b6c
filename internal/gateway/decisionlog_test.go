package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"testing"
	"time"
)

func TestDecisionLineIsJSON(t *testing.T) {
	var out bytes.Buffer
	h := NewDecisionHandler(&out, nil)
	rec := slog.NewRecord(time.Date(2026, 11, 27, 1, 2, 3, 4, time.UTC), slog.LevelInfo, "decision", 0)
	rec.AddAttrs(slog.String("decision", "deny"), slog.String("route", "api"), slog.String("layer", "jwt"),
		slog.String("reason", "jwt.expired"), slog.String("method", "GET"), slog.String("path", "/api/x"),
		slog.String("client_ip", "192.0.2.1"), slog.String("request_id", "abc"), slog.Int64("latency_us", 42),
		slog.String("empty", ""), slog.String("cause", "token: \"exp\" in the past\n\x01\xff<tab>\t\\"))
	if err := h.WithAttrs([]slog.Attr{slog.String("node", "n1")}).Handle(context.Background(), rec); err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("%s: %v", out.String(), err)
	}
	if _, ok := got["empty"]; ok {
		t.Error("empty attribute written")
	}
	if got["node"] != "n1" {
		t.Errorf("WithAttrs lost: %s", out.String())
	}
	want := map[string]any{
		"time": "2026-11-27T01:02:03.000000Z", "level": "INFO", "msg": "decision", "decision": "deny",
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

// The gateway writes decisions without building a record; the line must
// be the one Handle writes for the record it stands for.
func TestWriteDecisionMatchesHandle(t *testing.T) {
	at := time.Date(2026, 11, 27, 1, 2, 3, 4000, time.UTC)
	for _, d := range []decisionLine{
		{time: at, decision: "allow", route: "api", method: "GET", path: "/api/x", clientIP: "192.0.2.1", requestID: "abc", latencyMicros: 7},
		{time: at, decision: "deny", route: "api", layer: "jwt", reason: "jwt.expired", method: "POST", path: "/api/\"x\"",
			clientIP: "2001:db8::1", requestID: "def", latencyMicros: 1234, cause: "token: exp\n\xff"},
		{time: at, decision: "deny", layer: "route", reason: "route.not_found", method: "GET", path: "/", latencyMicros: 0},
	} {
		var viaHandle, direct bytes.Buffer
		h1 := NewDecisionHandler(&viaHandle, nil).WithAttrs([]slog.Attr{slog.String("node", "n1")})
		rec := slog.NewRecord(d.time, slog.LevelInfo, "decision", 0)
		rec.AddAttrs(slog.String("decision", d.decision), slog.String("route", d.route), slog.String("layer", d.layer),
			slog.String("reason", d.reason), slog.String("method", d.method), slog.String("path", d.path),
			slog.String("client_ip", d.clientIP), slog.String("request_id", d.requestID),
			slog.Int64("latency_us", d.latencyMicros), slog.String("cause", d.cause))
		if err := h1.Handle(context.Background(), rec); err != nil {
			t.Fatal(err)
		}
		h2 := NewDecisionHandler(&direct, nil).WithAttrs([]slog.Attr{slog.String("node", "n1")}).(*DecisionHandler)
		if err := h2.writeDecision(&d); err != nil {
			t.Fatal(err)
		}
		if viaHandle.String() != direct.String() {
			t.Errorf("direct line differs:\n got %s\nwant %s", direct.String(), viaHandle.String())
		}
	}
}

func BenchmarkDecisionLine(b *testing.B) {
	h := NewDecisionHandler(discard{}, nil)
	d := decisionLine{time: time.Now(), decision: "allow", route: "api", method: "GET", path: "/api/products",
		clientIP: "127.0.0.1", requestID: "9ac7075746efac760f29e6d576eb5266", latencyMicros: 883}
	b.ReportAllocs()
	for b.Loop() {
		_ = h.writeDecision(&d)
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
