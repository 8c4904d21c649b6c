package httpsig_test

import (
	"context"
	"fmt"
	"time"

	"github.com/drawbridge-gw/drawbridge/internal/httpsig"
)

func Example() {
	secret := []byte("an example secret of 32 bytes or more")
	created := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

	// The client signs the request it is about to send.
	req := &httpsig.Request{
		Method: "POST", Target: "/v1/orders?id=7", Scheme: "https", Authority: "api.example.com",
		Fields: []httpsig.Field{{Name: "Content-Type", Value: "application/json"}},
		Body:   []byte(`{"qty":2}`),
	}
	signer := &httpsig.Signer{
		Key:   httpsig.SigningKey{Algorithm: httpsig.HMACSHA256, Secret: secret},
		KeyID: "app-1",
		Now:   func() time.Time { return created },
	}
	signed, err := signer.Sign(httpsig.Message{Request: req})
	if err != nil {
		panic(err)
	}
	fmt.Println("Content-Digest:", signed.ContentDigest)
	fmt.Println("Signature-Input:", signed.Input)
	req.Fields = append(req.Fields,
		httpsig.Field{Name: "Content-Digest", Value: signed.ContentDigest},
		httpsig.Field{Name: "Signature-Input", Value: signed.Input},
		httpsig.Field{Name: "Signature", Value: signed.Signature})

	// The gateway verifies it as received.
	ver := &httpsig.Verifier{
		Keys: httpsig.StaticKeys{"app-1": {Algorithm: httpsig.HMACSHA256, Secret: secret}},
		Now:  func() time.Time { return created.Add(3 * time.Second) },
	}
	res, err := ver.Verify(context.Background(), httpsig.Message{Request: req})
	fmt.Println(res.KeyID, res.Covered, res.Digest, err)

	// Changed on the way, it is refused with a reason code.
	req.Method = "PUT"
	_, err = ver.Verify(context.Background(), httpsig.Message{Request: req})
	fmt.Println(httpsig.ReasonOf(err))
	// Output:
	// Content-Digest: sha-256=:H8fX0zPcSkHw/L3jZ0Xy+rxEGmrg6Eb/zTLOtEONzCo=:
	// Signature-Input: sig1=("@method" "@authority" "@path" "@query" "content-digest");created=1795780800;keyid="app-1"
	// app-1 ["@method" "@authority" "@path" "@query" "content-digest"] sha-256 <nil>
	// signature.invalid
}
