package queue

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// MaxItemBytes bounds an item. An item names a package, a product or an
// interval (the largest are preprocess-md_queue documents with a
// footprint); it is also part of the key of its history.
const MaxItemBytes = 1 << 20

// checkItem refuses values no handler can make sense of and that would
// spoil keys, logs and `pvs status`: empty, past MaxItemBytes, not UTF-8,
// or with control characters other than the whitespace a JSON document may
// hold. Producers that push without Enqueue can still put such values on a
// queue; the consumer fails them without running the handler.
func checkItem(v string) error {
	switch {
	case v == "":
		return errors.New("empty item")
	case len(v) > MaxItemBytes:
		return fmt.Errorf("item of %d bytes, past the limit of %d", len(v), MaxItemBytes)
	case !utf8.ValidString(v):
		return errors.New("item is not valid UTF-8")
	}
	if i := strings.IndexFunc(v, func(r rune) bool {
		return (r < 0x20 && r != '\t' && r != '\n' && r != '\r') || r == 0x7f
	}); i >= 0 {
		return fmt.Errorf("item holds control character %U at byte %d", v[i], i)
	}
	return nil
}

// decodeItem turns what the take script handed out into the Item a handler
// gets, or a permanent error that names what is wrong with the value.
func decodeItem(t taken) (Item, error) {
	if _, ok := StageOf(t.Queue); !ok {
		return t.Item, Permanent(fmt.Errorf("item from unknown queue %q", t.Queue))
	}
	if err := checkItem(t.Value); err != nil {
		return t.Item, Permanent(fmt.Errorf("invalid %s item: %w", t.Queue, err))
	}
	return t.Item, nil
}

// parseProcessingKey splits the name of a processing list,
// <prefix>pvs:processing:<worker>:<queue>, into the worker and the queue.
// Worker ids may hold colons; queue names do not, and must be known.
func parseProcessingKey(prefix, key string) (worker, queue string, ok bool) {
	rest, ok := strings.CutPrefix(key, prefix+"pvs:processing:")
	if !ok {
		return "", "", false
	}
	i := strings.LastIndexByte(rest, ':')
	if i <= 0 {
		return "", "", false
	}
	worker, queue = rest[:i], rest[i+1:]
	if _, known := StageOf(queue); !known {
		return "", "", false
	}
	return worker, queue, true
}
