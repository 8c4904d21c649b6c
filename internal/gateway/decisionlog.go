package gateway

import (
	"context"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"
)

// The decision log is the gateway's hottest log: one record per request.
// Decisions are slog records, handled by DecisionHandler, a JSON handler
// written for this one job: it encodes by appending to a pooled buffer and
// writes each line with one Write to a non-blocking writer (AsyncWriter).
// slog.JSONHandler would do, at several times the cost per line; any
// slog.Handler can be plugged in instead (Options.DecisionHandler).
//
// Lines have the shape slog's JSON handler writes (time, level, msg, then
// the attributes), so one parser reads both. Attributes with empty string
// values are left out: an allowed request has no layer and no reason, and
// allowed requests are most of the log's volume.

var lineBufs = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// DecisionHandler is a slog.Handler that writes JSON lines to a writer.
type DecisionHandler struct {
	w     io.Writer
	level slog.Leveler
	pre   []byte // encoded attributes from WithAttrs, each with a leading comma
}

// NewDecisionHandler returns a handler writing to w (one Write per line)
// records at or above level (nil: info).
func NewDecisionHandler(w io.Writer, level slog.Leveler) *DecisionHandler {
	if level == nil {
		level = slog.LevelInfo
	}
	return &DecisionHandler{w: w, level: level}
}

// Enabled reports whether records of level l are written.
func (h *DecisionHandler) Enabled(_ context.Context, l slog.Level) bool {
	return l >= h.level.Level()
}

// Handle writes one record.
func (h *DecisionHandler) Handle(_ context.Context, r slog.Record) error {
	bp := lineBufs.Get().(*[]byte)
	b := append((*bp)[:0], `{"time":"`...)
	b = r.Time.UTC().AppendFormat(b, "2006-01-02T15:04:05.000000Z07:00")
	b = append(b, `","level":"`...)
	b = append(b, r.Level.String()...)
	b = append(b, `","msg":`...)
	b = appendJSONString(b, r.Message)
	b = append(b, h.pre...)
	r.Attrs(func(a slog.Attr) bool {
		b = appendAttr(b, a)
		return true
	})
	b = append(b, "}\n"...)
	_, err := h.w.Write(b)
	*bp = b
	lineBufs.Put(bp)
	return err
}

// decisionLine is one decision line's fields, in the order written.
type decisionLine struct {
	time                                   time.Time
	decision, route, layer, reason, method string
	path, clientIP, requestID, cause       string
	latencyMicros                          int64
}

// writeDecision writes d as Handle writes the record the gateway would
// otherwise build for it (same fields, same order), without the record:
// this is the one line every request pays for.
func (h *DecisionHandler) writeDecision(d *decisionLine) error {
	bp := lineBufs.Get().(*[]byte)
	b := append((*bp)[:0], `{"time":"`...)
	b = d.time.UTC().AppendFormat(b, "2006-01-02T15:04:05.000000Z07:00")
	b = append(b, `","level":"INFO","msg":"decision"`...)
	b = append(b, h.pre...)
	b = appendField(b, `,"decision":`, d.decision)
	b = appendField(b, `,"route":`, d.route)
	b = appendField(b, `,"layer":`, d.layer)
	b = appendField(b, `,"reason":`, d.reason)
	b = appendField(b, `,"method":`, d.method)
	b = appendField(b, `,"path":`, d.path)
	b = appendField(b, `,"client_ip":`, d.clientIP)
	b = appendField(b, `,"request_id":`, d.requestID)
	b = append(b, `,"latency_us":`...)
	b = strconv.AppendInt(b, d.latencyMicros, 10)
	b = appendField(b, `,"cause":`, d.cause)
	b = append(b, "}\n"...)
	_, err := h.w.Write(b)
	*bp = b
	lineBufs.Put(bp)
	return err
}

// appendField appends a string field, key included, unless it is empty.
func appendField(b []byte, key, v string) []byte {
	if v == "" {
		return b
	}
	b = append(b, key...)
	return appendJSONString(b, v)
}

// WithAttrs returns a handler that writes attrs on every line.
func (h *DecisionHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	n := *h
	n.pre = append([]byte(nil), h.pre...)
	for _, a := range attrs {
		n.pre = appendAttr(n.pre, a)
	}
	return &n
}

// WithGroup is not used by the decision log; groups are delegated to
// slog's own JSON handler so that the result is still correct.
func (h *DecisionHandler) WithGroup(name string) slog.Handler {
	return slog.NewJSONHandler(h.w, &slog.HandlerOptions{Level: h.level}).WithGroup(name)
}

func appendAttr(b []byte, a slog.Attr) []byte {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		if v.String() == "" {
			return b
		}
		b = appendKey(b, a.Key)
		return appendJSONString(b, v.String())
	case slog.KindInt64:
		b = appendKey(b, a.Key)
		return strconv.AppendInt(b, v.Int64(), 10)
	case slog.KindUint64:
		b = appendKey(b, a.Key)
		return strconv.AppendUint(b, v.Uint64(), 10)
	case slog.KindBool:
		b = appendKey(b, a.Key)
		return strconv.AppendBool(b, v.Bool())
	case slog.KindDuration:
		b = appendKey(b, a.Key)
		return strconv.AppendInt(b, int64(v.Duration()), 10)
	case slog.KindTime:
		b = appendKey(b, a.Key)
		b = append(b, '"')
		b = v.Time().AppendFormat(b, time.RFC3339Nano)
		return append(b, '"')
	default:
		b = appendKey(b, a.Key)
		return appendJSONString(b, v.String())
	}
}

func appendKey(b []byte, k string) []byte {
	b = append(b, ',')
	b = appendJSONString(b, k)
	return append(b, ':')
}

var _ slog.Handler = (*DecisionHandler)(nil)

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string: quotes, backslashes and
// control characters escaped, invalid UTF-8 replaced by U+FFFD.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
