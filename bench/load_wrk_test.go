package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseWrk(t *testing.T) {
	// The files are wrk 4.1.0 output; wrk-socket-errors.txt has its 99%
	// line edited to cover the "s" unit.
	tests := []struct {
		file    string
		want    loadResult
		failed  string // want loadResult.failed() to contain this
		wantErr bool
	}{
		{file: "wrk-ok.txt", want: loadResult{Requests: 73641, RPS: 73601.48, P50: 0.084, P99: 4.02}},
		{
			file:   "wrk-non2xx.txt",
			want:   loadResult{Requests: 92, RPS: 91.83, P50: 43.97, P99: 44.04, Non2xx: 92},
			failed: "92 non-2xx responses",
		},
		{
			file: "wrk-socket-errors.txt",
			want: loadResult{
				Requests: 96, RPS: 47.96, P50: 43.97, P99: 1020, SocketErrors: 64590,
				ErrorDetail: "socket errors: connect 0, read 6, write 64584, timeout 0",
			},
			failed: "64590 socket errors",
		},
		{file: "wrk-no-latency.txt", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			got, err := parseWrk(string(data))
			if tt.wantErr {
				if err == nil {
					t.Fatalf("parseWrk = %+v, want an error", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !near(got.P50, tt.want.P50) || !near(got.P99, tt.want.P99) {
				t.Errorf("p50, p99 = %v, %v; want %v, %v", got.P50, got.P99, tt.want.P50, tt.want.P99)
			}
			got.P50, got.P99 = tt.want.P50, tt.want.P99
			if got != tt.want {
				t.Errorf("parseWrk =\n%+v\nwant\n%+v", got, tt.want)
			}
			if f := got.failed(); !strings.Contains(f, tt.failed) || (tt.failed == "") != (f == "") {
				t.Errorf("failed() = %q, want it to contain %q", f, tt.failed)
			}
		})
	}
}

func TestParseWrkDuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"84.00us", 84 * time.Microsecond},
		{"1.20ms", 1200 * time.Microsecond},
		{"1.02s", 1020 * time.Millisecond},
		{"2.00m", 2 * time.Minute},
	}
	for _, tt := range tests {
		got, err := parseWrkDuration(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("parseWrkDuration(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "12", "1.2xs", "msms"} {
		if got, err := parseWrkDuration(bad); err == nil {
			t.Errorf("parseWrkDuration(%q) = %v, want an error", bad, got)
		}
	}
}

func TestWrkScript(t *testing.T) {
	got := wrkScript("POST", "{\"a\":\"\\\n\"}\x00é")
	want := "wrk.method = \"POST\"\nwrk.body = \"{\\034a\\034:\\034\\092\\010\\034}\\000\\195\\169\"\n"
	if got != want {
		t.Errorf("wrkScript =\n%s\nwant\n%s", got, want)
	}
}

// near reports whether two milliseconds figures agree to a nanosecond.
func near(a, b float64) bool { return a-b < 1e-6 && b-a < 1e-6 }
