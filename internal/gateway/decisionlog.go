package gateway

import (
	"strconv"
	"sync"
	"time"
	"unicode/utf8"
)

// The decision log is the gateway's hottest log: one line per request. It
// is encoded here by appending to a pooled buffer rather than through
// slog, which at tens of thousands of requests per second costs several
// percent of the proxy's CPU (attribute records, caller lookup). The line
// has the same shape slog's JSON handler writes, so one parser reads both.

var lineBufs = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// decisionLine is one decision, ready to encode.
type decisionLine struct {
	time                                   time.Time
	decision, route, layer, reason, method string
	path, clientIP, requestID, cause       string
	latencyUS                              int64
}

func (d *decisionLine) appendJSON(b []byte) []byte {
	b = append(b, `{"time":"`...)
	b = d.time.AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","level":"INFO","msg":"decision","decision":`...)
	b = appendJSONString(b, d.decision)
	b = append(b, `,"route":`...)
	b = appendJSONString(b, d.route)
	b = append(b, `,"layer":`...)
	b = appendJSONString(b, d.layer)
	b = append(b, `,"reason":`...)
	b = appendJSONString(b, d.reason)
	b = append(b, `,"method":`...)
	b = appendJSONString(b, d.method)
	b = append(b, `,"path":`...)
	b = appendJSONString(b, d.path)
	b = append(b, `,"client_ip":`...)
	b = appendJSONString(b, d.clientIP)
	b = append(b, `,"request_id":`...)
	b = appendJSONString(b, d.requestID)
	b = append(b, `,"latency_us":`...)
	b = strconv.AppendInt(b, d.latencyUS, 10)
	if d.cause != "" {
		b = append(b, `,"cause":`...)
		b = appendJSONString(b, d.cause)
	}
	return append(b, "}\n"...)
}

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
