package main

import (
	"debug/buildinfo"
	"os"
	"strconv"
	"strings"
)

func describeBinary(path string) *binary {
	b := &binary{Path: path}
	if bi, err := buildinfo.ReadFile(path); err == nil {
		b.GoVersion = bi.GoVersion
		for _, st := range bi.Settings {
			if st.Key == "vcs.revision" {
				b.Revision = st.Value
			}
		}
	}
	return b
}

func cpuModel() string {
	data, _ := os.ReadFile("/proc/cpuinfo")
	for _, line := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func readTrim(path string) string {
	data, _ := os.ReadFile(path)
	return strings.TrimSpace(string(data))
}

// cpuTimes is a snapshot of the per-CPU counters of /proc/stat: busy and
// total jiffies by CPU name ("cpu0").
type cpuTimes map[string][2]uint64

func readCPUTimes() cpuTimes {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return nil
	}
	t := cpuTimes{}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) < 6 || !strings.HasPrefix(f[0], "cpu") || f[0] == "cpu" {
			continue
		}
		var busy, total uint64
		for i, v := range f[1:] {
			n, _ := strconv.ParseUint(v, 10, 64)
			if i >= 8 { // guest time is already counted in user time
				break
			}
			total += n
			if i != 3 && i != 4 { // idle, iowait
				busy += n
			}
		}
		t[f[0]] = [2]uint64{busy, total}
	}
	return t
}

// busySince returns each CPU's busy share, in percent, between two
// snapshots: it shows whether the proxy's CPU was saturated (as it should
// be) and whether the load generator's was (then the load side, not the
// proxy, may be what limits the figures).
func busySince(before, after cpuTimes) map[string]float64 {
	out := map[string]float64{}
	for cpu, a := range after {
		b, ok := before[cpu]
		if !ok || a[1] <= b[1] {
			continue
		}
		pct := 100 * float64(a[0]-b[0]) / float64(a[1]-b[1])
		out[cpu] = float64(int(pct*10+0.5)) / 10
	}
	return out
}
