package redis

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseURL(t *testing.T) {
	tests := []struct {
		name string
		url  string
		// want is what the test checks of the options.
		addrs    []string
		db       int
		user     string
		password string
		tls      string // TLS server name; empty for none
		cluster  bool
		master   string
	}{
		{name: "plain", url: "redis://127.0.0.1:6380/2", addrs: []string{"127.0.0.1:6380"}, db: 2},
		{name: "default port", url: "redis://cache", addrs: []string{"cache:6379"}},
		{name: "password only", url: "redis://:s3cret@h:1/0", addrs: []string{"h:1"}, password: "s3cret"},
		{name: "user and password", url: "redis://app:p%40ss@h:1", addrs: []string{"h:1"}, user: "app", password: "p@ss"},
		{name: "tls", url: "rediss://redis.example.com:6380", addrs: []string{"redis.example.com:6380"}, tls: "redis.example.com"},
		{name: "ipv6", url: "redis://[::1]:7000", addrs: []string{"[::1]:7000"}},
		{name: "cluster", url: "redis://a:1?addr=b:2&addr=c:3", addrs: []string{"a:1", "b:2", "c:3"}},
		{name: "cluster one seed", url: "redis://a:1?cluster=true", addrs: []string{"a:1"}, cluster: true},
		{name: "sentinel", url: "redis://s1:26379?addr=s2:26379&master_name=mymaster&sentinel_password=x",
			addrs: []string{"s1:26379", "s2:26379"}, master: "mymaster"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := ParseURL(tt.url)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.addrs, o.Addrs); diff != "" {
				t.Errorf("Addrs (-want +got):\n%s", diff)
			}
			if o.DB != tt.db || o.Username != tt.user || o.Password != tt.password ||
				o.IsClusterMode != tt.cluster || o.MasterName != tt.master {
				t.Errorf("got db %d user %q password %q cluster %v master %q", o.DB, o.Username, o.Password, o.IsClusterMode, o.MasterName)
			}
			if (o.TLSConfig != nil) != (tt.tls != "") || o.TLSConfig != nil && o.TLSConfig.ServerName != tt.tls {
				t.Errorf("TLS config %+v, want server name %q", o.TLSConfig, tt.tls)
			}
			if !o.ContextTimeoutEnabled {
				t.Error("ContextTimeoutEnabled is off: deadlines would be ignored")
			}
		})
	}
}

func TestParseURLOptions(t *testing.T) {
	o, err := ParseURL("redis://h")
	if err != nil || o.MaxRetries != -1 || o.DialerRetries != 1 {
		t.Fatalf("defaults: MaxRetries %d, DialerRetries %d, %v; want -1 (none) and 1", o.MaxRetries, o.DialerRetries, err)
	}
	o, err = ParseURL("redis://h?dial_timeout=250ms&read_timeout=1s&write_timeout=2s&pool_size=7&client_name=gw&max_retries=2")
	if err != nil {
		t.Fatal(err)
	}
	if o.MaxRetries != 2 {
		t.Errorf("MaxRetries: %d", o.MaxRetries)
	}
	if o.DialTimeout != 250*time.Millisecond || o.ReadTimeout != time.Second || o.WriteTimeout != 2*time.Second ||
		o.PoolSize != 7 || o.ClientName != "gw" {
		t.Errorf("got %+v", o)
	}
}

func TestParseURLErrors(t *testing.T) {
	for _, u := range []string{
		"", "http://h", "redis://", "redis:h", "redis://h/x", "redis://h:0", "redis://h:99999",
		"redis://h?pool=3", "redis://h?pool_size=0", "redis://h?dial_timeout=soon",
		"redis://a?addr=b&db=1", "redis://a/1?addr=b", "redis://a?cluster=true&master_name=m",
		"redis://h?client_name=a&client_name=b",
		"redis://u:hunter2%zz@h", // a malformed escape in the password
		"redis://u:hunter2@h?dial_timeout=hunter2",
	} {
		_, err := ParseURL(u)
		if err == nil {
			t.Errorf("ParseURL(%q): got nil error", u)
			continue
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("ParseURL(%q): the error shows the password: %v", u, err)
		}
		if !strings.HasPrefix(err.Error(), "redis: ") {
			t.Errorf("ParseURL(%q): %q is not prefixed with the package", u, err)
		}
	}
}

func TestCheckVersion(t *testing.T) {
	for info, ok := range map[string]bool{
		"# Server\r\nredis_version:7.0.15\r\nredis_mode:standalone\r\n": true,
		"redis_version:6.2.0\r\n":  true,
		"redis_version:10.0.0\r\n": true,
		"redis_version:6.0.16\r\n": false,
		"redis_version:5.0.7\r\n":  false,
		"redis_version:x\r\n":      false,
		"# Server\r\n":             false,
	} {
		err := checkVersion("h:1", info)
		if (err == nil) != ok {
			t.Errorf("checkVersion(%q): %v, want ok=%v", info, err, ok)
		}
	}
	err := checkVersion("h:1", "redis_version:6.0.16\r\n")
	if want := "redis: h:1 runs Redis 6.0.16; drawbridge needs 6.2 or newer"; err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("got %v, want %q...", err, want)
	}
}

func TestHashTagged(t *testing.T) {
	got := HashTagged("p:", "ip:1.2.3.4", "tokens", "stamp")
	if diff := cmp.Diff([]string{"p:{ip:1.2.3.4}tokens", "p:{ip:1.2.3.4}stamp"}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	// Braces in a tag cannot end it early, nor make two groups collide.
	a := HashTagged("p:", "a}x", "y")[0]
	b := HashTagged("p:", "a", "x}y")[0]
	if a == b {
		t.Errorf("tag a}x + y and tag a + x}y built one key: %s", a)
	}
	if strings.Count(a, "}") != 1 || strings.Count(a, "{") != 1 {
		t.Errorf("escaped key %q holds a brace from the tag", a)
	}
	if e := HashTagged("p:", "", "n")[0]; strings.HasPrefix(e, "p:{}") {
		t.Errorf("empty tag gave %q: Cluster would hash each whole key", e)
	}
}
