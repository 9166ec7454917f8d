package main

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/pvs/pvs/pkg/webclient"
)

// pvs client needs neither Redis nor PostGIS: it serves the page and the
// configuration it derives from the collection's file, with the probes.
func TestClientServesItsConfiguration(t *testing.T) {
	t.Setenv("PVS_PUBLIC_URL", "https://vhr18.example")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := newClientCmd(&globals{configPath: "../../config/vhr18.yaml", logLevel: "error", logFormat: "text"})
	cmd.SetArgs([]string{"--listen", addr, "--base-map", "https://tile.example/{z}/{x}/{y}.png"})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- cmd.ExecuteContext(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("pvs client: %v", err)
		}
	}()
	base := "http://" + addr
	var resp *http.Response
	for deadline := time.Now().Add(10 * time.Second); ; {
		resp, err = http.Get(base + "/readyz")
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("/readyz: %v %v", err, resp)
	}
	resp.Body.Close()

	resp, err = http.Get(base + "/config.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var c webclient.Config
	if err := json.NewDecoder(resp.Body).Decode(&c); err != nil {
		t.Fatal(err)
	}
	want := webclient.Config{Collection: "VHR_IMAGE_2018", Title: "VHR Image 2018", WMS: "https://vhr18.example/ows",
		WCS: "https://vhr18.example/ows", WMTS: "https://vhr18.example/wmts/1.0.0/WMTSCapabilities.xml",
		OpenSearch: "https://vhr18.example/opensearch",
		BaseMap:    &webclient.BaseMap{URL: "https://tile.example/{z}/{x}/{y}.png", MaxZoom: 19}}
	if c.BaseMap == nil || *c.BaseMap != *want.BaseMap {
		t.Errorf("base map %+v, want %+v", c.BaseMap, want.BaseMap)
	}
	c.BaseMap, want.BaseMap = nil, nil
	if c != want {
		t.Errorf("config.json %+v, want %+v", c, want)
	}

	// The page: served with the bundle, else the 503 that says how to
	// build it.
	resp, err = http.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	h, _ := webclient.New(webclient.Bundle(), webclient.Config{Collection: "C"})
	if want := map[bool]int{true: http.StatusOK, false: http.StatusServiceUnavailable}[h.Err() == nil]; resp.StatusCode != want {
		t.Errorf("GET /: %d, want %d (bundle error: %v)", resp.StatusCode, want, h.Err())
	}
}
