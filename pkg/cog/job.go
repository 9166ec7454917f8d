package cog

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// Job is one conversion, as handed to a converter.
type Job struct {
	Inputs  []string `json:"inputs"`
	Dst     string   `json:"dst"`
	Steps   Steps    `json:"steps"`
	Options Options  `json:"options"`
}

// Run converts in this process.
func (j Job) Run(log *slog.Logger) error {
	return Convert(j.Inputs, j.Dst, j.Steps, j.Options, log)
}

// Usage is what a conversion cost.
type Usage struct {
	Elapsed time.Duration
	// MaxRSS is the peak resident memory of the converting process, in
	// bytes (0 when converting in-process).
	MaxRSS int64
}

// Converter runs conversion jobs.
type Converter interface {
	Convert(ctx context.Context, j Job) (Usage, error)
}

// InProcess converts in the calling process. GDAL calls cannot be
// interrupted: the context is only checked before starting.
type InProcess struct{ Log *slog.Logger }

// Convert implements Converter.
func (c InProcess) Convert(ctx context.Context, j Job) (Usage, error) {
	if err := ctx.Err(); err != nil {
		return Usage{}, err
	}
	t0 := time.Now()
	err := j.Run(c.Log)
	return Usage{Elapsed: time.Since(t0)}, err
}

// Subprocess converts in a child process running Args (for pvs:
// the pvs binary and "cog-convert"), which reads the job as JSON on stdin.
// Cancelling the context kills the child, so a timeout really stops GDAL,
// and a crash of GDAL on a hostile file is the item's failure, not the
// daemon's.
type Subprocess struct {
	Args []string
	// Env is added to the child's environment (e.g. GDAL_CACHEMAX).
	Env []string
}

// ErrCrashed reports a converter process killed by a signal it did not
// ask for.
var ErrCrashed = errors.New("the converter crashed")

// Convert implements Converter.
func (c Subprocess) Convert(ctx context.Context, j Job) (Usage, error) {
	in, err := json.Marshal(j)
	if err != nil {
		return Usage{}, err
	}
	cmd := exec.CommandContext(ctx, c.Args[0], c.Args[1:]...)
	cmd.Env = append(os.Environ(), c.Env...)
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	t0 := time.Now()
	err = cmd.Run()
	u := Usage{Elapsed: time.Since(t0)}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok && cmd.ProcessState != nil {
		u.MaxRSS = ru.Maxrss * 1024
	}
	if err == nil {
		return u, nil
	}
	if ctx.Err() != nil {
		return u, ctx.Err()
	}
	msg := strings.TrimSpace(stderr.String())
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return u, fmt.Errorf("%w (%s): %s", ErrCrashed, ws.Signal(), lastLine(msg))
	}
	// A fault inside GDAL reaches the Go runtime of the child, which
	// reports it ("SIGSEGV: segmentation violation", "fatal error: ...")
	// with a dump of every goroutine: keep its first line.
	for _, p := range []string{"SIGSEGV", "SIGBUS", "SIGABRT", "SIGILL", "SIGFPE", "fatal error:", "panic:", "runtime:"} {
		if strings.HasPrefix(msg, p) {
			first, _, _ := strings.Cut(msg, "\n")
			return u, fmt.Errorf("%w: %s", ErrCrashed, strings.TrimSpace(first))
		}
	}
	if msg == "" {
		msg = err.Error()
	}
	return u, errors.New(msg)
}

func lastLine(s string) string {
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}
