package queue

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// Run with `go test -fuzz FuzzDecodeItem ./pkg/queue`; a plain `go test`
// runs the committed seeds in testdata/fuzz.

// FuzzDecodeItem feeds the consumer's decoding of what the take script hands
// out: any value from any queue name. An accepted item is exactly the value,
// non-empty, UTF-8, bounded and free of control characters; a refused one is
// a permanent failure (retrying cannot fix a value), and Enqueue refuses the
// same values.
func FuzzDecodeItem(f *testing.F) {
	f.Fuzz(func(t *testing.T, queue, value string) {
		it, err := decodeItem(taken{Item: Item{Queue: queue, Value: value, Attempt: 1}, lease: "1"})
		_, known := StageOf(queue)
		if err != nil {
			if !IsPermanent(err) || err.Error() == "" {
				t.Fatalf("refusal %v is not a permanent failure with a reason", err)
			}
			if known && checkItem(value) == nil {
				t.Fatalf("an item Enqueue accepts was refused: %v", err)
			}
			return
		}
		if !known || it.Value != value || it.Queue != queue || it.Attempt != 1 {
			t.Fatalf("decoded %+v from %q on %q", it, value, queue)
		}
		if value == "" || len(value) > MaxItemBytes || !utf8.ValidString(value) {
			t.Fatalf("accepted %q", value)
		}
		for _, r := range value {
			if (r < 0x20 && !strings.ContainsRune("\t\n\r", r)) || r == 0x7f {
				t.Fatalf("accepted control character %U in %q", r, value)
			}
		}
	})
}

// FuzzProcessingKey checks that `pvs status` finds the worker and queue of
// any processing list, whatever the worker id holds (colons included), and
// that a key it accepts is one the consumer could have made.
func FuzzProcessingKey(f *testing.F) {
	queues := []string{}
	for _, s := range Stages {
		queues = append(queues, s.Queues...)
	}
	f.Fuzz(func(t *testing.T, prefix, worker string, qi uint8, raw string) {
		c := &Client{prefix: prefix}
		q := queues[int(qi)%len(queues)]
		w, gotQ, ok := parseProcessingKey(prefix, c.processingKey(worker, q))
		if ok != (worker != "") || (ok && (w != worker || gotQ != q)) {
			t.Fatalf("parse(%q) = %q, %q, %v; want %q, %q", c.processingKey(worker, q), w, gotQ, ok, worker, q)
		}
		if w, q, ok := parseProcessingKey(prefix, raw); ok && c.processingKey(w, q) != raw {
			t.Fatalf("accepted %q as worker %q, queue %q", raw, w, q)
		}
	})
}

// FuzzDecodeTakeReply checks the decoding of the take script's reply: an
// item comes out only with a queue, a lease and an attempt of at least 1,
// and the lists of given-up and dropped items come out whole.
func FuzzDecodeTakeReply(f *testing.F) {
	f.Fuzz(func(t *testing.T, q, item string, attempt int64, lease, gaveUp string) {
		var given []any
		for _, s := range strings.Split(gaveUp, "\n") {
			if s != "" {
				given = append(given, s)
			}
		}
		reply := []any{[]any{q, item, attempt, lease}, given, []any{item}, int64(0)}
		r, err := decodeTakeReply(reply)
		valid := q != "" && lease != "" && attempt >= 1
		if valid != (err == nil) {
			t.Fatalf("decode(%v) = %+v, %v", reply, r, err)
		}
		if err != nil {
			return
		}
		if r.item == nil || r.item.Queue != q || r.item.Value != item || int64(r.item.Attempt) != attempt || r.item.lease != lease {
			t.Fatalf("decode(%v) = %+v", reply, r.item)
		}
		if len(r.gaveUp) != len(given) || len(r.dropped) != 1 || r.dropped[0] != item {
			t.Fatalf("decode(%v) lists %v, %v", reply, r.gaveUp, r.dropped)
		}
		if _, err := decodeTakeReply([]any{[]any{}, given, []any{}, int64(1)}); err != nil {
			t.Fatalf("an empty take: %v", err)
		}
		if _, err := decodeTakeReply(reply[:3]); err == nil {
			t.Fatal("a reply of three parts was accepted")
		}
	})
}
