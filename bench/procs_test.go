package main

import (
	"slices"
	"testing"
)

func TestParseCPUList(t *testing.T) {
	tests := []struct {
		in   string
		want []int
	}{
		{"0", []int{0}},
		{"0-1", []int{0, 1}},
		{"0,2-4,7", []int{0, 2, 3, 4, 7}},
	}
	for _, tt := range tests {
		got, err := parseCPUList(tt.in)
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("parseCPUList(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "a", "1-x"} {
		if got, err := parseCPUList(bad); err == nil {
			t.Errorf("parseCPUList(%q) = %v, want an error", bad, got)
		}
	}
}

func TestPinningWrap(t *testing.T) {
	argv := []string{"prog", "arg"}
	if got := (pinning{}).wrap(1, argv); !slices.Equal(got, argv) {
		t.Errorf("unpinned wrap = %v", got)
	}
	got := pinning{Taskset: "/usr/bin/taskset"}.wrap(1, argv)
	if want := []string{"/usr/bin/taskset", "-c", "1", "prog", "arg"}; !slices.Equal(got, want) {
		t.Errorf("wrap = %v, want %v", got, want)
	}
}

func TestParseReady(t *testing.T) {
	addr, n, err := parseReady("ready addr=127.0.0.1:4000 gomaxprocs=1\n")
	if err != nil || addr != "127.0.0.1:4000" || n != 1 {
		t.Errorf("parseReady = %q, %d, %v", addr, n, err)
	}
	if _, _, err := parseReady("panic: oops\n"); err == nil {
		t.Error("parseReady accepted a line without addr=")
	}
}

func TestShellLineAndRedaction(t *testing.T) {
	argv := redactArgs([]string{"wrk", "-H", "authorization: Bearer abc", "-H", "Accept: */*", "http://x/"},
		map[string]bool{"Authorization": true})
	got := shellLine([]string{"LISTEN=127.0.0.1:1"}, argv)
	want := `LISTEN=127.0.0.1:1 wrk -H 'authorization: <redacted>' -H 'Accept: */*' http://x/`
	if got != want {
		t.Errorf("shellLine =\n%s\nwant\n%s", got, want)
	}
	if got := shellQuote("it's"); got != `'it'\''s'` {
		t.Errorf("shellQuote = %s", got)
	}
}

func TestMergeHeaders(t *testing.T) {
	got := mergeHeaders([]Header{{"Accept", "a"}, {"authorization", "old"}}, []Header{{"Authorization", "new"}})
	want := []Header{{"Accept", "a"}, {"Authorization", "new"}}
	if !slices.Equal(got, want) {
		t.Errorf("mergeHeaders = %v, want %v", got, want)
	}
}

func TestBusySince(t *testing.T) {
	before := cpuTimes{"cpu0": {100, 1000}, "cpu1": {0, 1000}}
	after := cpuTimes{"cpu0": {1090, 2000}, "cpu1": {500, 2000}, "cpu2": {1, 1}}
	got := busySince(before, after)
	if len(got) != 2 || got["cpu0"] != 99 || got["cpu1"] != 50 {
		t.Errorf("busySince = %v, want cpu0 99, cpu1 50", got)
	}
}
