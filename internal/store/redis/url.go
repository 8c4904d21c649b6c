package redis

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// ParseURL turns a Redis URL into client options. The forms:
//
//	redis://[[user]:password@]host[:port][/db][?option=value&...]
//	rediss://...    the same over TLS, verifying the server as host
//
// The port defaults to 6379 and db to 0. Options:
//
//	addr=host:port           another server (repeatable): with several
//	                         servers the client speaks Redis Cluster; with
//	                         master_name they are Sentinels
//	cluster=true             Redis Cluster even with a single seed address
//	master_name=NAME         Sentinel: the master that the Sentinels at the
//	                         URL's addresses monitor
//	sentinel_username=, sentinel_password=   Sentinel's own credentials
//	dial_timeout=, read_timeout=, write_timeout=   durations ("500ms")
//	pool_size=N              connections per server
//	max_retries=N            retries of a failed command (default none:
//	                         see the package doc)
//	client_name=NAME         CLIENT SETNAME on every connection
//
// Unknown options are errors, so that a misspelt one is not silently
// ignored. Cluster only has db 0.
func ParseURL(raw string) (*goredis.UniversalOptions, error) {
	u, err := url.Parse(raw)
	if err != nil {
		// url.Error quotes the URL, and its cause may quote part of it:
		// either may hold the password.
		return nil, errors.New("redis: URL: malformed (not shown: it may hold a password)")
	}
	o := &goredis.UniversalOptions{
		DialTimeout:  5 * time.Second,
		ReadTimeout:  3 * time.Second,
		WriteTimeout: 3 * time.Second,
		// Honour the caller's deadline rather than only ReadTimeout.
		ContextTimeoutEnabled: true,
		// No retries: a SET NX retried after its reply was lost finds the
		// caller's own claim and reports a replay; a GETDEL retried loses
		// the value. Failing at once is failing closed, and fast.
		MaxRetries: -1,
		// One dial attempt per connection (go-redis makes five, with
		// backoff): with Redis down, a request fails in milliseconds.
		DialerRetries: 1,
	}
	switch u.Scheme {
	case "redis":
	case "rediss":
		o.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12, ServerName: u.Hostname()}
	default:
		return nil, fmt.Errorf("redis: URL: scheme %q, want redis or rediss", u.Scheme)
	}
	if u.Opaque != "" || u.Host == "" {
		return nil, errors.New("redis: URL: no host (want redis://host:port)")
	}
	addr, err := hostPort(u.Host)
	if err != nil {
		return nil, err
	}
	o.Addrs = []string{addr}
	if u.User != nil {
		o.Username = u.User.Username()
		o.Password, _ = u.User.Password()
	}
	if p := strings.Trim(u.Path, "/"); p != "" {
		if o.DB, err = strconv.Atoi(p); err != nil || o.DB < 0 {
			return nil, fmt.Errorf("redis: URL: database %q is not a number", p)
		}
	}
	if err := parseQuery(o, u.Query()); err != nil {
		return nil, err
	}
	if (len(o.Addrs) > 1 || o.IsClusterMode) && o.MasterName == "" && o.DB != 0 {
		return nil, errors.New("redis: URL: Redis Cluster has only database 0")
	}
	return o, nil
}

func parseQuery(o *goredis.UniversalOptions, q url.Values) error {
	for name, vals := range q {
		if name != "addr" && len(vals) != 1 {
			return fmt.Errorf("redis: URL: option %s given %d times", name, len(vals))
		}
		v := vals[0]
		var err error
		switch name {
		case "addr":
			for _, a := range vals {
				addr, err := hostPort(a)
				if err != nil {
					return err
				}
				o.Addrs = append(o.Addrs, addr)
			}
		case "cluster":
			o.IsClusterMode, err = strconv.ParseBool(v)
		case "master_name":
			o.MasterName = v
		case "sentinel_username":
			o.SentinelUsername = v
		case "sentinel_password":
			o.SentinelPassword = v
		case "dial_timeout":
			o.DialTimeout, err = duration(v)
		case "read_timeout":
			o.ReadTimeout, err = duration(v)
		case "write_timeout":
			o.WriteTimeout, err = duration(v)
		case "pool_size":
			o.PoolSize, err = strconv.Atoi(v)
			if err == nil && o.PoolSize < 1 {
				err = errors.New("must be at least 1")
			}
		case "max_retries":
			o.MaxRetries, err = strconv.Atoi(v)
			if err == nil && o.MaxRetries < 0 {
				err = errors.New("negative")
			}
			if o.MaxRetries == 0 {
				o.MaxRetries = -1 // go-redis reads 0 as its default, 3
			}
		case "client_name":
			o.ClientName = v
		default:
			return fmt.Errorf("redis: URL: unknown option %q", name)
		}
		if err != nil {
			// Never echo the value: it may be a password.
			return fmt.Errorf("redis: URL: option %s: invalid value", name)
		}
	}
	if o.MasterName != "" && o.IsClusterMode {
		return errors.New("redis: URL: master_name (Sentinel) and cluster=true exclude each other")
	}
	return nil
}

func duration(v string) (time.Duration, error) {
	d, err := time.ParseDuration(v)
	if err == nil && d <= 0 {
		err = errors.New("not positive")
	}
	return d, err
}

// hostPort checks a host[:port] and adds the default port.
func hostPort(s string) (string, error) {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		// No port: the whole is the host (brackets stripped for IPv6).
		host, port = strings.TrimSuffix(strings.TrimPrefix(s, "["), "]"), "6379"
	}
	if host == "" {
		return "", fmt.Errorf("redis: URL: address %q has no host", s)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return "", fmt.Errorf("redis: URL: address %q has an invalid port", s)
	}
	return net.JoinHostPort(host, port), nil
}
