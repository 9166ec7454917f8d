package queue

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// Defaults of the item log tails (see ConsumerOptions.LogLines).
const (
	DefaultLogLines = 50
	DefaultLogTTL   = 7 * 24 * time.Hour
	// maxLogLineBytes bounds one line: a tail is read whole by pvs status
	// and the management API.
	maxLogLineBytes = 4096
	// tailBuffer is how many lines wait for Redis before new ones are
	// dropped: logging never waits on Redis.
	tailBuffer = 1024
)

// LogLine is one line of an item's log tail.
type LogLine struct {
	// Time is Redis's time when the line was stored (RFC 3339, UTC).
	Time    string `json:"time"`
	Attempt int    `json:"attempt"`
	Worker  string `json:"worker"`
	Level   string `json:"level"`
	Message string `json:"msg"`
}

func (c *Client) logKey(stage, item string) string { return c.prefix + "pvs:log:" + stage + ":" + item }

// LogTail returns the newest log lines of item in stage, oldest first; none
// if the stage never logged the item or its tail has expired.
func (c *Client) LogTail(ctx context.Context, stage, item string) ([]LogLine, error) {
	raw, err := c.rdb.LRange(ctx, c.logKey(stage, item), 0, -1).Result()
	if err != nil {
		return nil, fmt.Errorf("read log tail of %q in %s: %w", item, stage, err)
	}
	out := make([]LogLine, 0, len(raw))
	for _, r := range raw {
		var l LogLine
		if err := json.Unmarshal([]byte(r), &l); err != nil {
			l = LogLine{Message: r} // written by something else: shown as it is
		}
		out = append(out, l)
	}
	return out, nil
}

// ItemLogger returns the logger of the item whose handler got ctx: what it
// logs at info level and above is kept in the item's log tail as well as
// logged. Outside a handler it returns fallback.
func ItemLogger(ctx context.Context, fallback *slog.Logger) *slog.Logger {
	if l, ok := ctx.Value(itemLogKey{}).(*slog.Logger); ok {
		return l
	}
	return fallback
}

type itemLogKey struct{}

// tailLine is a line on its way to an item's tail.
type tailLine struct {
	stage, item string
	attempt     int
	worker      string
	level, msg  string
}

// logTail writes the lines of a consumer's items to Redis from one
// goroutine, in batches, so that a handler's logging costs no round trip
// and an unreachable Redis costs lines, never time.
type logTail struct {
	c       *Client
	keep    int
	ttl     time.Duration
	lines   chan tailLine
	dropped atomic.Int64
	log     *slog.Logger
}

func newLogTail(c *Client, keep int, ttl time.Duration, log *slog.Logger) *logTail {
	return &logTail{c: c, keep: keep, ttl: ttl, lines: make(chan tailLine, tailBuffer), log: log}
}

// add queues a line, or drops it when the buffer is full.
func (t *logTail) add(l tailLine) {
	if len(l.msg) > maxLogLineBytes {
		l.msg = strings.ToValidUTF8(l.msg[:maxLogLineBytes], "") + "…"
	}
	select {
	case t.lines <- l:
	default:
		t.dropped.Add(1)
	}
}

// run writes lines until stop is closed, then writes what is buffered and
// returns.
func (t *logTail) run(stop <-chan struct{}) {
	failing := false
	for {
		var batch []tailLine
		select {
		case l := <-t.lines:
			batch = t.drain(append(batch, l))
		case <-stop:
			if batch = t.drain(nil); len(batch) > 0 {
				t.write(batch, &failing)
			}
			return
		}
		t.write(batch, &failing)
	}
}

// drain adds what is buffered to batch, up to 200 lines.
func (t *logTail) drain(batch []tailLine) []tailLine {
	for len(batch) < 200 {
		select {
		case l := <-t.lines:
			batch = append(batch, l)
		default:
			return batch
		}
	}
	return batch
}

func (t *logTail) write(batch []tailLine, failing *bool) {
	args := []any{t.keep, t.ttl.Milliseconds()}
	for _, l := range batch {
		args = append(args, l.stage, l.item, l.attempt, l.worker, l.level, l.msg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := t.c.run(ctx, logScript, args...).Err(); err != nil {
		t.dropped.Add(int64(len(batch)))
		if !*failing { // once per outage, not once per batch
			t.log.Warn("item log lines lost: Redis did not take them", "lines", len(batch), "err", err)
		}
		*failing = true
		return
	}
	*failing = false
}

// tailHandler passes records on to the consumer's handler and copies those
// at info level and above into the item's tail.
type tailHandler struct {
	next  slog.Handler
	tail  *logTail
	line  tailLine
	attrs string // added with WithAttrs below the item, as key=value
	group string
}

func (h *tailHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelInfo || h.next.Enabled(ctx, l)
}

func (h *tailHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Level >= slog.LevelInfo {
		var b strings.Builder
		b.WriteString(r.Message)
		b.WriteString(h.attrs)
		r.Attrs(func(a slog.Attr) bool {
			writeAttr(&b, h.group, a)
			return true
		})
		l := h.line
		l.level, l.msg = r.Level.String(), b.String()
		h.tail.add(l)
	}
	if h.next.Enabled(ctx, r.Level) {
		return h.next.Handle(ctx, r)
	}
	return nil
}

func (h *tailHandler) WithAttrs(as []slog.Attr) slog.Handler {
	var b strings.Builder
	b.WriteString(h.attrs)
	for _, a := range as {
		writeAttr(&b, h.group, a)
	}
	return &tailHandler{next: h.next.WithAttrs(as), tail: h.tail, line: h.line, attrs: b.String(), group: h.group}
}

func (h *tailHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	return &tailHandler{next: h.next.WithGroup(name), tail: h.tail, line: h.line, attrs: h.attrs, group: h.group + name + "."}
}

// writeAttr writes " key=value" as slog's text handler would, groups
// flattened into dotted keys.
func writeAttr(b *strings.Builder, group string, a slog.Attr) {
	a.Value = a.Value.Resolve()
	if a.Equal(slog.Attr{}) {
		return
	}
	if a.Value.Kind() == slog.KindGroup {
		g := group
		if a.Key != "" {
			g += a.Key + "."
		}
		for _, ga := range a.Value.Group() {
			writeAttr(b, g, ga)
		}
		return
	}
	v := a.Value.String()
	if v == "" || strings.ContainsAny(v, " \"=\t\n") {
		v = strconv.Quote(v)
	}
	b.WriteByte(' ')
	b.WriteString(group + a.Key)
	b.WriteByte('=')
	b.WriteString(v)
}

// itemLogger is the logger of one attempt at an item: the consumer's,
// with the item's lines also kept in its tail when tails are on.
func (w *Consumer) itemLogger(f *flight) *slog.Logger {
	base := w.log.With("item", f.Value, "attempt", f.Attempt)
	if w.tail == nil {
		return base
	}
	return slog.New(&tailHandler{next: base.Handler(), tail: w.tail,
		line: tailLine{stage: w.stage.Name, item: f.Value, attempt: f.Attempt, worker: w.opt.WorkerID}})
}

// tailNote adds a line to an item's tail outside an attempt (the item was
// failed before a handler saw it).
func (w *Consumer) tailNote(item string, level slog.Level, msg string) {
	if w.tail != nil {
		w.tail.add(tailLine{stage: w.stage.Name, item: item, worker: w.opt.WorkerID, level: level.String(), msg: msg})
	}
}
