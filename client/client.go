package client

import (
	"errors"
	"net/http"
	"time"
)

// Client calls the API through the gateway as the app: an http.Client
// whose Transport attests and proves possession of the bound key.
type Client struct {
	// Transport attests, keeps the token and adds the proofs. Required.
	Transport *Transport
	// Timeout limits each call, as http.Client's does, the attestation
	// included. Zero means no limit beyond the request's context.
	Timeout time.Duration
}

// Do sends req as the app (see Transport.RoundTrip) and returns the
// answer. A refused attestation is an error that wraps *Error.
func (c *Client) Do(req *http.Request) (*http.Response, error) {
	if c.Transport == nil {
		return nil, errors.New("client: Client.Transport is required")
	}
	hc := http.Client{Transport: c.Transport, Timeout: c.Timeout}
	return hc.Do(req)
}
