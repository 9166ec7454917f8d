package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/pvs/pvs/internal/testenv"
	"github.com/pvs/pvs/pkg/queue"
)

// `pvs status` shows every item a worker holds and who holds it, from a
// worker that is working on it right now, and `--held --json` the same.
func TestStatusShowsHolders(t *testing.T) {
	t.Parallel()
	rdb, prefix := testenv.Redis(t)
	q := queue.New(rdb, prefix)
	ctx := context.Background()
	var out bytes.Buffer
	testenv.Must(t, printHolders(ctx, q, &out, false, false), "print holders")
	if strings.TrimSpace(out.String()) != "no item is held by a worker" {
		t.Errorf("status with nothing held:\n%s", out.String())
	}

	testenv.Must(t, q.Enqueue(ctx, "register_queue", "VHR_IMAGE_2018/SCENE"), "enqueue")
	started, release := make(chan struct{}), make(chan struct{})
	c := q.NewConsumer(queue.Register, queue.ConsumerOptions{WorkerID: "registrar-7", Heartbeat: 50 * time.Millisecond})
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- c.Run(runCtx, func(context.Context, queue.Item) (string, error) {
			close(started)
			<-release
			return "", nil
		})
	}()
	defer func() { close(release); cancel(); <-done }()
	<-started
	// An item left in a list without a lease, as by a lost reply.
	testenv.Must(t, rdb.LPush(ctx, prefix+"pvs:processing:gone-1:seed_queue", "2018-06-15T00:00:00Z/2018-06-16T00:00:00Z").Err(), "orphan")

	out.Reset()
	testenv.Must(t, printHolders(ctx, q, &out, false, false), "print holders")
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "HELD ITEM") {
		t.Fatalf("status:\n%s", out.String())
	}
	for _, want := range [][]string{
		{"VHR_IMAGE_2018/SCENE", "register", "register_queue", "registrar-7", " 1 ", " ago"},
		{"2018-06-15T00:00:00Z/2018-06-16T00:00:00Z", "seed", "gone-1 (no lease: being given back)", "never (not registered)"},
	} {
		found := false
		for _, l := range lines[1:] {
			ok := true
			for _, w := range want {
				ok = ok && strings.Contains(l, w)
			}
			found = found || ok
		}
		if !found {
			t.Errorf("no line with %q in:\n%s", want, out.String())
		}
	}

	out.Reset()
	testenv.Must(t, printHolders(ctx, q, &out, true, false), "print holders as JSON")
	var hs []queue.Holding
	testenv.Must(t, json.Unmarshal(out.Bytes(), &hs), "decode %s", out.String())
	if len(hs) != 2 || hs[0].Worker != "registrar-7" || !hs[0].Leased || hs[1].Worker != "gone-1" || hs[1].Leased {
		t.Errorf("holders as JSON: %+v", hs)
	}
}
