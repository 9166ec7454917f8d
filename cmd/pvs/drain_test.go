package main

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"
)

func TestDrainKeepsServingUnready(t *testing.T) {
	d := &drain{delay: 300 * time.Millisecond}
	parent, signal := context.WithCancel(context.Background())
	ctx, stop := d.context(parent, slog.New(slog.NewTextHandler(io.Discard, nil)))
	defer stop()
	if err := d.check().Run(ctx); err != nil {
		t.Fatalf("ready before the signal: %v", err)
	}
	signal()
	start := time.Now()
	time.Sleep(50 * time.Millisecond)
	if ctx.Err() != nil {
		t.Fatal("the server context ended with the signal, without draining")
	}
	if err := d.check().Run(ctx); err == nil {
		t.Fatal("/readyz passes while draining")
	}
	<-ctx.Done()
	if el := time.Since(start); el < 250*time.Millisecond {
		t.Errorf("drained %s, want about 300ms", el)
	}
}

func TestNoDrainEndsWithTheSignal(t *testing.T) {
	d := &drain{}
	parent, signal := context.WithCancel(context.Background())
	ctx, stop := d.context(parent, slog.New(slog.NewTextHandler(io.Discard, nil)))
	defer stop()
	signal()
	select {
	case <-ctx.Done():
	case <-time.After(time.Second):
		t.Fatal("without a drain delay the context must end with the signal")
	}
}
