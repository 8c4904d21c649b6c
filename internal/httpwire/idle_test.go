package httpwire

import (
	"io"
	"net"
	"testing"
)

// An idle keep-alive connection must not pin a pooled read buffer.
func TestIdleConnHoldsNoBuffer(t *testing.T) {
	client, server := net.Pipe()
	defer client.Close()
	c := NewGuard(Limits{}).Wrap(server)
	defer c.Close()
	req := "GET / HTTP/1.1\r\nHost: a\r\n\r\n"
	go func() { _, _ = client.Write([]byte(req)) }()
	buf := make([]byte, len(req))
	if _, err := io.ReadFull(c, buf); err != nil {
		t.Fatal(err)
	}
	if string(buf) != req {
		t.Fatalf("read %q", buf)
	}
	if c.bufp != nil {
		t.Fatal("drained connection still holds its pooled buffer")
	}
	// The next request is read normally.
	go func() { _, _ = client.Write([]byte(req)) }()
	if _, err := io.ReadFull(c, buf); err != nil || string(buf) != req {
		t.Fatalf("second request: %q, %v", buf, err)
	}
}
