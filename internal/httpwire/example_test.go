package httpwire_test

import (
	"bufio"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"time"

	"github.com/drawbridge-gw/drawbridge/internal/httpwire"
)

// listener wraps every accepted connection with the guard.
type listener struct {
	net.Listener
	guard *httpwire.Guard
}

func (l listener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return l.guard.Wrap(c), nil
}

// A request smuggling attempt (Content-Length and Transfer-Encoding
// together) never reaches the application: the handler sees the guard's
// synthetic request, and renders the refusal like any other denial.
func Example() {
	guard := httpwire.NewGuard(httpwire.Limits{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{
		ReadHeaderTimeout: 10 * time.Second,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if reason, refused := guard.Refusal(r); refused {
				fmt.Println("refused:", reason)
				http.Error(w, reason, http.StatusBadRequest)
				return
			}
			fmt.Println("application:", r.Method, r.URL.Path)
		}),
	}
	go srv.Serve(listener{ln, guard})
	defer srv.Close()

	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "POST / HTTP/1.1\r\nHost: example.com\r\n"+
		"Content-Length: 13\r\nTransfer-Encoding: chunked\r\n\r\n"+
		"0\r\n\r\nSMUGGLED")
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(resp.Status)
	// Output:
	// refused: framing.cl_te
	// 400 Bad Request
}
