package client_test

import (
	"fmt"
	"log"
	"net/http"
	"os"

	"github.com/drawbridge-gw/drawbridge/client"
	"github.com/drawbridge-gw/drawbridge/internal/attest/devkey"
)

// An app calls its API through the gateway. Here the app runs in CI, so
// it attests with a development device (what `drawbridge attestation
// dev-device` writes); the gateway, started for the example, allows the
// development environment for app shop, and its route /signed/ requires
// a signature by the attested key.
func Example() {
	dir, _ := os.MkdirTemp("", "client-example-")
	defer os.RemoveAll(dir)
	gw, stop, err := newTestGateway(dir)
	if err != nil {
		log.Fatal(err)
	}
	defer stop()
	device, _ := gw.newDevice("shop")
	_ = devkey.WriteAttestor(dir+"/device", &devkey.Attestor{Device: device.Device, Chain: device.Chain})

	att, err := client.LoadDevAttestor(dir + "/device")
	if err != nil {
		log.Fatal(err)
	}
	c := &client.Client{Transport: &client.Transport{
		Gateway:    gw.URL, // such as https://api.example.com
		App:        "shop",
		AppVersion: "1.4.0",
		Attestor:   att,
		// The device key signs requests too: the gateway binds an
		// install to one key.
		Key: att.Device,
	}}
	req, _ := http.NewRequest("GET", gw.URL+"/signed/orders", nil)
	resp, err := c.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	fmt.Println(resp.Status)
	// Output: 200 OK
}
