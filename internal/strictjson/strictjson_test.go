package strictjson

import (
	"errors"
	"strings"
	"testing"
)

func TestParseObject(t *testing.T) {
	tests := []struct {
		in   string
		want error
	}{
		{`{"a":1,"b":[1,{"c":"d"}]}`, nil},
		{`{}`, nil},
		{`{"a":1,"a":2}`, ErrDuplicate},
		{`{"a":{"b":1,"b":1}}`, ErrDuplicate},
		{`{"a":[{"b":1,"b":2}]}`, ErrDuplicate},
		{`{"a":1,"A":2}`, nil},
		{`[1]`, ErrMalformed},
		{`{"a":1} {}`, ErrMalformed},
		{`{"a":1}x`, ErrMalformed},
		{"{\"a\":\"\xff\"}", ErrMalformed},
		{strings.Repeat(`{"a":`, MaxDepth+1) + "1" + strings.Repeat("}", MaxDepth+1), ErrMalformed},
		{`{"a":` + strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1) + `}`, ErrMalformed},
		{``, ErrMalformed},
	}
	for _, tt := range tests {
		_, err := ParseObject([]byte(tt.in))
		if !errors.Is(err, tt.want) && !(err == nil && tt.want == nil) {
			t.Errorf("ParseObject(%.40q) = %v, want %v", tt.in, err, tt.want)
		}
	}
}

func FuzzParseObject(f *testing.F) {
	for _, s := range []string{`{"a":1}`, `{"a":[1,2,{"b":null}]}`, `{"a":1,"a":2}`, `{`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) { _, _ = ParseObject(b) })
}
