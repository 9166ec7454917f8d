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
	// Input says what the inputs may be; the zero policy allows
	// DefaultDrivers anywhere, at any size.
	Input InputPolicy `json:"input"`
}

// Run converts in this process.
func (j Job) Run(log *slog.Logger) error {
	return Convert(j.Inputs, j.Dst, j.Steps, j.Options, j.Input, log)
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
// daemon's. The child gets an environment of its own (see ChildEnv) and
// dies with its parent.
type Subprocess struct {
	Args []string
	// Env is added to the child's environment (e.g. GDAL_CACHEMAX).
	Env []string
}

// ErrCrashed reports a converter process killed by a signal it did not
// ask for, or stopped by a fault of the Go runtime. The input may be to
// blame, or the machine (the kernel's OOM killer): a crash is for the
// queue's attempt limit to judge, not a verdict on the input.
var ErrCrashed = errors.New("the converter crashed")

// ErrNotStarted reports a converter process that could not be started
// (no memory, too many processes, the binary replaced during an upgrade):
// nothing is known of the input yet, so the item is worth retrying.
var ErrNotStarted = errors.New("the converter could not be started")

// Convert implements Converter.
func (c Subprocess) Convert(ctx context.Context, j Job) (Usage, error) {
	in, err := json.Marshal(j)
	if err != nil {
		return Usage{}, err
	}
	cmd := c.command(ctx)
	cmd.Stdin = bytes.NewReader(in)
	var stderr boundedBuffer
	cmd.Stderr = &stderr
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		return Usage{}, fmt.Errorf("%w: %v", ErrNotStarted, err)
	}
	err = cmd.Wait()
	u := usage(cmd.ProcessState, time.Since(t0))
	if err == nil {
		return u, nil
	}
	if ctx.Err() != nil {
		return u, ctx.Err()
	}
	return u, childError(cmd.ProcessState, strings.TrimSpace(stderr.String()), err)
}

// command builds the child's command: its own environment, killed when the
// parent dies (else a killed preprocessor leaves GDAL running on).
func (c Subprocess) command(ctx context.Context) *exec.Cmd {
	cmd := exec.CommandContext(ctx, c.Args[0], c.Args[1:]...)
	cmd.Env = ChildEnv(os.Environ(), c.Env)
	dieWithParent(cmd)
	return cmd
}

func usage(ps *os.ProcessState, elapsed time.Duration) Usage {
	u := Usage{Elapsed: elapsed}
	if ps == nil {
		return u
	}
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		u.MaxRSS = ru.Maxrss * 1024
	}
	return u
}

// childError turns how the child ended into the error of the conversion.
func childError(ps *os.ProcessState, msg string, err error) error {
	if ps != nil {
		if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return fmt.Errorf("%w (%s): %s", ErrCrashed, ws.Signal(), lastLine(msg))
		}
	}
	// A fault inside GDAL reaches the Go runtime of the child, which
	// reports it ("SIGSEGV: segmentation violation", "fatal error: ...")
	// with a dump of every goroutine: keep its first line.
	for _, p := range []string{"SIGSEGV", "SIGBUS", "SIGABRT", "SIGILL", "SIGFPE", "fatal error:", "panic:", "runtime:"} {
		if strings.HasPrefix(msg, p) {
			first, _, _ := strings.Cut(msg, "\n")
			return fmt.Errorf("%w: %s", ErrCrashed, strings.TrimSpace(first))
		}
	}
	if msg == "" {
		msg = err.Error()
	}
	return errors.New(msg)
}

func lastLine(s string) string {
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// boundedBuffer keeps the start and the end of what the child writes to
// stderr: a crash report starts with its reason, an error ends with it,
// and a hostile file must not make GDAL fill the parent's memory (or the
// failure record) with warnings.
type boundedBuffer struct {
	head, tail []byte
	dropped    bool
}

const boundedHalf = 16 << 10

func (b *boundedBuffer) Write(p []byte) (int, error) {
	n := len(p)
	if room := boundedHalf - len(b.head); room > 0 {
		k := min(room, len(p))
		b.head = append(b.head, p[:k]...)
		p = p[k:]
	}
	b.tail = append(b.tail, p...)
	if over := len(b.tail) - boundedHalf; over > 0 {
		b.tail = append(b.tail[:0], b.tail[over:]...)
		b.dropped = true
	}
	return n, nil
}

func (b *boundedBuffer) String() string {
	if b.dropped {
		return string(b.head) + "\n…\n" + string(b.tail)
	}
	return string(b.head) + string(b.tail)
}
