package gateway_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// testCert writes a self-signed certificate for 127.0.0.1 and localhost
// to a temporary directory and returns its files and a pool that trusts
// it.
func testCert(t *testing.T) (certFile, keyFile string, roots *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "drawbridge test"},
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8}), 0o600); err != nil {
		t.Fatal(err)
	}
	roots = x509.NewCertPool()
	roots.AddCert(cert)
	return certFile, keyFile, roots
}

const tlsYAML = `
listen: ${LISTEN}
admin:
  listen: ${ADMIN_LISTEN}
tls:
  cert_file: ${CERT}
  key_file: ${KEY}
limits:
  shutdown_timeout: ${SHUTDOWN_TIMEOUT:-300ms}
upstreams:
  app:
    url: ${UPSTREAM}
  stream:
    url: ${STREAM}
routes:
  - name: stream
    match: {path_prefix: /stream/}
    upstream: stream
  - name: api
    match: {path_prefix: /api/}
    upstream: app
`

// startTLSEnv runs tlsYAML with a fresh certificate; ${STREAM} is
// stream's URL (or the recording upstream if stream is nil).
func startTLSEnv(t *testing.T, stream *httptest.Server, opts ...func(*env)) (*env, *x509.CertPool) {
	t.Helper()
	certFile, keyFile, roots := testCert(t)
	opts = append([]func(*env){func(e *env) {
		e.vars["CERT"], e.vars["KEY"] = certFile, keyFile
		e.vars["STREAM"] = e.up.URL
		if stream != nil {
			e.vars["STREAM"] = stream.URL
		}
	}}, opts...)
	e := startEnv(t, tlsYAML, opts...)
	e.base = "https://" + e.addr
	return e, roots
}

// h2Client speaks HTTP/2 over TLS, trusting roots.
func h2Client(t *testing.T, roots *x509.CertPool) *http.Client {
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}, ForceAttemptHTTP2: true}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

// h1TLSClient speaks HTTP/1.1 over TLS (ALPN http/1.1 only).
func h1TLSClient(t *testing.T, roots *x509.CertPool) *http.Client {
	tr := &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: roots, NextProtos: []string{"http/1.1"}},
		TLSNextProto:    map[string]func(string, *tls.Conn) http.RoundTripper{},
	}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

func TestTLSTermination(t *testing.T) {
	e, roots := startTLSEnv(t, nil)
	tests := []struct {
		name   string
		client *http.Client
		proto  int
	}{
		{"HTTP/2", h2Client(t, roots), 2},
		{"HTTP/1.1 over TLS", h1TLSClient(t, roots), 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := tt.client.Get(e.base + "/api/tls")
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			_, _ = io.Copy(io.Discard, resp.Body)
			if resp.StatusCode != 200 {
				t.Fatalf("status = %d, want 200", resp.StatusCode)
			}
			if resp.ProtoMajor != tt.proto {
				t.Errorf("response protocol %s, want HTTP/%d", resp.Proto, tt.proto)
			}
			got := e.up.last(t)
			if p := got.Header.Get("X-Forwarded-Proto"); p != "https" {
				t.Errorf("upstream X-Forwarded-Proto = %q, want https", p)
			}
			if got.Path != "/api/tls" {
				t.Errorf("upstream path = %q, want /api/tls", got.Path)
			}
		})
	}

	t.Run("HTTP/1.1 over TLS still passes the framing guard", func(t *testing.T) {
		before := e.up.hits.Load()
		c, err := tls.Dial("tcp", e.addr, &tls.Config{RootCAs: roots, NextProtos: []string{"http/1.1"}})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if p := c.ConnectionState().NegotiatedProtocol; p != "http/1.1" {
			t.Fatalf("ALPN = %q, want http/1.1", p)
		}
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		_, _ = io.WriteString(c, "POST /api/smuggle HTTP/1.1\r\nHost: gw.test\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
		out, _ := io.ReadAll(c)
		resp := rawResponse(t, string(out))
		if resp.StatusCode != 400 {
			t.Fatalf("status = %d, want 400", resp.StatusCode)
		}
		if p := readProblem(t, resp); p.Reason != "framing.cl_te" {
			t.Errorf("reason = %q, want framing.cl_te", p.Reason)
		}
		if n := e.up.hits.Load() - before; n != 0 {
			t.Errorf("upstream hits = %d, want 0", n)
		}
	})
}

// TestH2Streaming: request and response bodies stream through the
// gateway over HTTP/2, chunk by chunk. Each side waits for the other to
// have received a chunk before it sends the next, so a gateway that
// buffered a whole body would deadlock (and the test time out).
func TestH2Streaming(t *testing.T) {
	const chunks, size = 5, 16
	chunk := func(i int) []byte { return fmt.Appendf(nil, "chunk-%02d-%s", i, strings.Repeat(".", size-9)) }
	got := make(chan int)  // upstream -> test: request chunk i arrived
	acks := make(chan int) // test -> upstream: response chunk i arrived
	wait := func(ch <-chan int, want int) error {
		select {
		case i := <-ch:
			if i != want {
				return fmt.Errorf("chunk %d, want %d", i, want)
			}
			return nil
		case <-time.After(5 * time.Second):
			return fmt.Errorf("chunk %d did not arrive within 5s: buffered?", want)
		}
	}
	stream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/stream/up":
			buf := make([]byte, size)
			for i := range chunks {
				if _, err := io.ReadFull(r.Body, buf); err != nil || !bytes.Equal(buf, chunk(i)) {
					http.Error(w, fmt.Sprintf("chunk %d: %q %v", i, buf, err), 400)
					return
				}
				got <- i
			}
			if n, _ := io.Copy(io.Discard, r.Body); n != 0 {
				http.Error(w, "trailing bytes", 400)
				return
			}
			_, _ = io.WriteString(w, "received")
		case "/stream/down":
			f := http.NewResponseController(w)
			for i := range chunks {
				_, _ = w.Write(chunk(i))
				if err := f.Flush(); err != nil {
					return
				}
				if wait(acks, i) != nil {
					return
				}
			}
		}
	}))
	t.Cleanup(stream.Close)
	e, roots := startTLSEnv(t, stream)
	client := h2Client(t, roots)

	t.Run("request body", func(t *testing.T) {
		pr, pw := io.Pipe()
		req, err := http.NewRequest("POST", e.base+"/stream/up", pr)
		if err != nil {
			t.Fatal(err)
		}
		type result struct {
			resp *http.Response
			err  error
		}
		done := make(chan result, 1)
		go func() {
			resp, err := client.Do(req)
			done <- result{resp, err}
		}()
		for i := range chunks {
			if _, err := pw.Write(chunk(i)); err != nil {
				t.Fatal(err)
			}
			if err := wait(got, i); err != nil {
				pw.CloseWithError(err)
				t.Fatal(err)
			}
		}
		pw.Close()
		r := <-done
		if r.err != nil {
			t.Fatal(r.err)
		}
		defer r.resp.Body.Close()
		body, _ := io.ReadAll(r.resp.Body)
		if r.resp.StatusCode != 200 || r.resp.ProtoMajor != 2 {
			t.Fatalf("%s %d %q, want HTTP/2 200", r.resp.Proto, r.resp.StatusCode, body)
		}
	})

	t.Run("response body", func(t *testing.T) {
		resp, err := client.Get(e.base + "/stream/down")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != 200 || resp.ProtoMajor != 2 {
			t.Fatalf("%s %d, want HTTP/2 200", resp.Proto, resp.StatusCode)
		}
		buf := make([]byte, size)
		for i := range chunks {
			if _, err := io.ReadFull(resp.Body, buf); err != nil {
				t.Fatalf("chunk %d: %v", i, err)
			}
			if !bytes.Equal(buf, chunk(i)) {
				t.Fatalf("chunk %d = %q, want %q", i, buf, chunk(i))
			}
			acks <- i
		}
		if rest, _ := io.ReadAll(resp.Body); len(rest) != 0 {
			t.Errorf("trailing bytes %q", rest)
		}
	})
}

// bodyRecord is what a strict upstream made of one request body.
type bodyRecord struct {
	path     string
	declared int64  // Content-Length, or -1
	read     int    // bytes read
	err      string // how reading ended, "" at a clean end
}

// TestH2FramingMismatch covers HTTP-06 of the attack catalogue (H2.CL and
// H2.TE): an HTTP/2 request whose content-length disagrees with its DATA,
// or that carries transfer-encoding, is malformed (RFC 9113 §8.1.1,
// §8.2.2). The stream must be reset and the upstream must never complete
// a request whose body differs from its declared length; the bytes
// smuggled in DATA must never become a request of their own.
func TestH2FramingMismatch(t *testing.T) {
	var mu sync.Mutex
	var records []bodyRecord
	strict := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		rec := bodyRecord{path: r.URL.Path, declared: r.ContentLength, read: len(b)}
		if err != nil {
			rec.err = err.Error()
		}
		mu.Lock()
		records = append(records, rec)
		mu.Unlock()
	}))
	t.Cleanup(strict.Close)
	e, roots := startTLSEnv(t, nil, func(e *env) { e.vars["UPSTREAM"] = strict.URL })

	smuggled := []byte("GET /api/admin HTTP/1.1\r\nHost: example.com\r\n\r\n")
	tests := []struct {
		name   string
		header [][2]string
		data   [][]byte // DATA frames; the last ends the stream
		// mayAnswer: x/net/http2 starts the handler when HEADERS arrive.
		// With content-length 0 the gateway forwards no body, so the
		// upstream's answer may beat the DATA frame's reset. The request
		// forwarded is then a consistent empty POST; the DATA never is.
		mayAnswer bool
	}{
		{"H2.CL: content-length 0 and a DATA frame", [][2]string{{"content-length", "0"}}, [][]byte{smuggled}, true},
		{"content-length shorter than DATA", [][2]string{{"content-length", "5"}}, [][]byte{smuggled}, false},
		{"content-length longer than DATA", [][2]string{{"content-length", "4096"}}, [][]byte{smuggled}, false},
		{"content-length exceeded by a second DATA frame", [][2]string{{"content-length", strconv.Itoa(len(smuggled))}}, [][]byte{smuggled, smuggled}, false},
		{"H2.TE: transfer-encoding chunked", [][2]string{{"transfer-encoding", "chunked"}}, [][]byte{[]byte("0\r\n\r\n")}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mu.Lock()
			records = nil
			mu.Unlock()
			res := h2Raw(t, e.addr, roots, tt.header, tt.data)
			t.Logf("outcome: %s", res)
			// Let the upstream finish whatever it was given.
			time.Sleep(50 * time.Millisecond)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case res.refused():
			case tt.mayAnswer && res.status == "200" && len(records) == 1 && records[0].declared == 0 && records[0].read == 0:
				t.Logf("answered before the DATA frame was read; the upstream got an empty POST")
			default:
				t.Errorf("stream was not refused: %s", res)
			}
			for _, r := range records {
				if r.path != "/api/h2" {
					t.Errorf("upstream received a request for %s: smuggled", r.path)
				}
				if r.err == "" && int64(r.read) != r.declared {
					t.Errorf("upstream completed a request with Content-Length %d and a %d-byte body", r.declared, r.read)
				}
			}
			if strings.HasPrefix(tt.name, "H2.TE") && len(records) != 0 {
				t.Errorf("upstream saw %d requests, want 0", len(records))
			}
			t.Logf("upstream: %+v", records)
		})
	}
}

// h2Result is how the gateway answered a raw HTTP/2 stream.
type h2Result struct {
	status  string // :status of a response HEADERS, if any
	rst     bool   // RST_STREAM received for the stream
	rstCode http2.ErrCode
	goAway  bool
	timeout bool
}

// refused reports a stream reset with PROTOCOL_ERROR, a connection error,
// or an error status. x/net/http2 resets the stream when DATA exceeds
// content-length and answers 400 itself to connection-specific fields.
// When DATA falls short of content-length it only fails the request body
// at END_STREAM: the upstream request is aborted and the gateway answers
// 502 upstream.unavailable, blaming the upstream for the client's error.
func (r h2Result) refused() bool {
	if r.rst && r.rstCode == http2.ErrCodeProtocol || r.goAway {
		return true
	}
	n, err := strconv.Atoi(r.status)
	return err == nil && n >= 400
}

func (r h2Result) String() string {
	return fmt.Sprintf("status=%q rst=%v(%v) goaway=%v timeout=%v", r.status, r.rst, r.rstCode, r.goAway, r.timeout)
}

// h2Raw opens an HTTP/2 connection (TLS, ALPN h2) and sends one POST on
// stream 1 with the extra header fields and DATA frames given, all in one
// write, then reads frames until the stream is reset or ended.
func h2Raw(t *testing.T, addr string, roots *x509.CertPool, extra [][2]string, data [][]byte) h2Result {
	t.Helper()
	c, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: roots, NextProtos: []string{"h2"}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if p := c.ConnectionState().NegotiatedProtocol; p != "h2" {
		t.Fatalf("ALPN = %q, want h2", p)
	}
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))

	var out bytes.Buffer
	out.WriteString(http2.ClientPreface)
	fr := http2.NewFramer(&out, c)
	fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	if err := fr.WriteSettings(); err != nil {
		t.Fatal(err)
	}
	var block bytes.Buffer
	enc := hpack.NewEncoder(&block)
	fields := [][2]string{{":method", "POST"}, {":scheme", "https"}, {":authority", "127.0.0.1"}, {":path", "/api/h2"}, {"user-agent", "h2raw"}}
	for _, f := range append(fields, extra...) {
		if err := enc.WriteField(hpack.HeaderField{Name: f[0], Value: f[1]}); err != nil {
			t.Fatal(err)
		}
	}
	if err := fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: block.Bytes(), EndHeaders: true}); err != nil {
		t.Fatal(err)
	}
	for i, d := range data {
		if err := fr.WriteData(1, i == len(data)-1, d); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.Write(out.Bytes()); err != nil {
		t.Fatal(err)
	}

	var res h2Result
	ack := http2.NewFramer(c, nil)
	for {
		f, err := fr.ReadFrame()
		if err != nil {
			var ne net.Error
			res.timeout = errors.As(err, &ne) && ne.Timeout()
			return res
		}
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() {
				_ = ack.WriteSettingsAck()
			}
		case *http2.MetaHeadersFrame:
			if f.StreamID == 1 {
				res.status = f.PseudoValue("status")
				if f.StreamEnded() {
					return res
				}
			}
		case *http2.DataFrame:
			if f.StreamID == 1 && f.StreamEnded() {
				return res
			}
		case *http2.RSTStreamFrame:
			if f.StreamID == 1 {
				res.rst, res.rstCode = true, f.ErrCode
				return res
			}
		case *http2.GoAwayFrame:
			res.goAway = true
			return res
		}
	}
}
