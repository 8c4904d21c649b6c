package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// wrkLoader runs wrk with one thread, pinned next to the upstream.
type wrkLoader struct {
	bin string
	pin pinning
}

func (wrkLoader) Name() string { return "wrk" }

func (w wrkLoader) Run(ctx context.Context, s loadSpec) (loadResult, error) {
	// wrk takes whole seconds.
	secs := int(math.Ceil(s.Duration.Seconds()))
	if secs < 1 {
		secs = 1
	}
	argv := []string{w.bin, "-t1", "-c" + strconv.Itoa(s.Conns), fmt.Sprintf("-d%ds", secs), "--latency"}
	if s.Method != "GET" || s.Body != "" {
		script := filepath.Join(s.Dir, s.Tag+".lua")
		if err := os.WriteFile(script, []byte(wrkScript(s.Method, s.Body)), 0o644); err != nil {
			return loadResult{}, err
		}
		argv = append(argv, "-s", script)
	}
	for _, h := range s.Headers {
		argv = append(argv, "-H", h.Name+": "+h.Value)
	}
	argv = append(argv, s.URL)
	argv = w.pin.wrap(w.pin.LoadCPU, argv)

	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = time.Second
	line := shellLine(nil, redactArgs(argv, s.Secret))
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return loadResult{}, ctx.Err()
		}
		return loadResult{}, fmt.Errorf("%s: %v\n%s", line, err, out.String())
	}
	r, err := parseWrk(out.String())
	if err != nil {
		return loadResult{}, fmt.Errorf("%s: %v\n%s", line, err, out.String())
	}
	r.Command = line
	return r, nil
}

// wrkScript sets the method and body of wrk's request; wrk adds the
// Content-Length.
func wrkScript(method, body string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "wrk.method = %s\n", luaString(method))
	if body != "" {
		fmt.Fprintf(&b, "wrk.body = %s\n", luaString(body))
	}
	return b.String()
}

// luaString quotes s as a Lua string literal, byte for byte.
func luaString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			fmt.Fprintf(&b, "\\%03d", c)
			continue
		}
		b.WriteByte(c)
	}
	b.WriteByte('"')
	return b.String()
}

// parseWrk reads the report wrk prints with --latency:
//
//	  Latency Distribution
//	     50%    1.20ms
//	     99%    3.45ms
//	  150000 requests in 5.00s, 30.00MB read
//	  Socket errors: connect 0, read 0, write 0, timeout 0
//	  Non-2xx or 3xx responses: 12
//	Requests/sec:  30000.00
//
// The socket error and non-2xx lines appear only when a count is not
// zero.
func parseWrk(out string) (loadResult, error) {
	var r loadResult
	var haveRPS, haveP50, haveP99, haveReqs bool
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		f := strings.Fields(line)
		switch {
		case strings.HasPrefix(line, "Requests/sec:") && len(f) == 2:
			v, err := strconv.ParseFloat(f[1], 64)
			if err != nil {
				return r, fmt.Errorf("wrk: requests/sec %q: %v", f[1], err)
			}
			r.RPS, haveRPS = v, true
		case len(f) == 2 && (f[0] == "50%" || f[0] == "99%"):
			d, err := parseWrkDuration(f[1])
			if err != nil {
				return r, err
			}
			if f[0] == "50%" {
				r.P50, haveP50 = ms(d), true
			} else {
				r.P99, haveP99 = ms(d), true
			}
		case len(f) >= 3 && f[1] == "requests" && f[2] == "in":
			n, err := strconv.ParseInt(f[0], 10, 64)
			if err != nil {
				return r, fmt.Errorf("wrk: request count %q: %v", f[0], err)
			}
			r.Requests, haveReqs = n, true
		case strings.HasPrefix(line, "Socket errors:"):
			// connect 0, read 0, write 0, timeout 0
			rest := strings.TrimPrefix(line, "Socket errors:")
			for _, part := range strings.Split(rest, ",") {
				kv := strings.Fields(part)
				if len(kv) != 2 {
					return r, fmt.Errorf("wrk: socket errors %q", line)
				}
				n, err := strconv.ParseInt(kv[1], 10, 64)
				if err != nil {
					return r, fmt.Errorf("wrk: socket errors %q: %v", line, err)
				}
				r.SocketErrors += n
			}
			if r.SocketErrors > 0 {
				r.ErrorDetail = "socket errors: " + strings.TrimSpace(rest)
			}
		case strings.HasPrefix(line, "Non-2xx or 3xx responses:") && len(f) == 5:
			n, err := strconv.ParseInt(f[4], 10, 64)
			if err != nil {
				return r, fmt.Errorf("wrk: non-2xx count %q: %v", f[4], err)
			}
			r.Non2xx = n
		}
	}
	if !haveRPS || !haveP50 || !haveP99 || !haveReqs {
		return r, fmt.Errorf("wrk: output lacks requests/sec, request count or the 50%%/99%% latency lines (was --latency given?)")
	}
	return r, nil
}

// parseWrkDuration parses wrk's latency format: a number and one of us,
// ms, s, m, h.
func parseWrkDuration(s string) (time.Duration, error) {
	units := []struct {
		suffix string
		unit   time.Duration
	}{{"us", time.Microsecond}, {"ms", time.Millisecond}, {"s", time.Second}, {"m", time.Minute}, {"h", time.Hour}}
	for _, u := range units {
		if num, ok := strings.CutSuffix(s, u.suffix); ok {
			v, err := strconv.ParseFloat(num, 64)
			if err != nil {
				return 0, fmt.Errorf("wrk: latency %q: %v", s, err)
			}
			return time.Duration(v * float64(u.unit)), nil
		}
	}
	return 0, fmt.Errorf("wrk: latency %q has no known unit", s)
}

// ms converts to fractional milliseconds, the unit of the report.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
