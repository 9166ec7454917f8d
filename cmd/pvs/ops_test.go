package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
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

// TestMain lets a test run this package's main in a child process (the
// test binary itself, with PVS_TEST_RUN_MAIN=1), so that exit codes are
// checked as a shell sees them, through main's own mapping.
func TestMain(m *testing.M) {
	if os.Getenv("PVS_TEST_RUN_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// runMain runs `pvs args...` in a child process against the Redis prefix
// and returns its stdout, stderr and exit code.
func runMain(t *testing.T, prefix string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "PVS_TEST_RUN_MAIN=1", "PVS_CONFIG=../../config/vhr18.yaml",
		"REDIS_URL="+testenv.RedisURL(), "PVS_REDIS_PREFIX="+prefix)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("run pvs %v: %v", args, err)
	}
	return o.String(), e.String(), cmd.ProcessState.ExitCode()
}

// finishItems gives packages/good.tar a success and packages/bad.tar a
// permanent failure through a real consumer, and leaves
// packages/waiting.tar queued.
func finishItems(t *testing.T, q *queue.Client) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for _, it := range []string{"packages/good.tar", "packages/bad.tar"} {
		testenv.Must(t, q.Enqueue(ctx, "preprocess_queue", it), "enqueue %s", it)
	}
	c := q.NewConsumer(queue.Preprocess, queue.ConsumerOptions{WorkerID: "preprocessor-9", Heartbeat: 50 * time.Millisecond})
	done := make(chan error, 1)
	go func() {
		done <- c.Run(ctx, func(_ context.Context, it queue.Item) (string, error) {
			if it.Value == "packages/bad.tar" {
				return "", queue.Permanent(errors.New("not a package"))
			}
			return "", nil
		})
	}()
	testenv.Eventually(t, 10*time.Second, "both items finished", func() (bool, error) {
		s, _ := q.IsMember(ctx, queue.Preprocess.Success, "packages/good.tar")
		f, _ := q.IsMember(ctx, queue.Preprocess.Failure, "packages/bad.tar")
		return s && f, nil
	})
	cancel()
	<-done
	testenv.Must(t, q.Enqueue(context.Background(), "preprocess_queue", "packages/waiting.tar"), "enqueue")
}

// `pvs status ITEM...` exits 0 for known items that did not fail, 3 for an
// unknown item and 4 for a failed one (4 winning over 3), and with --json
// prints one JSON array and nothing else on stdout, whatever the items.
func TestStatusExitCodes(t *testing.T) {
	t.Parallel()
	rdb, prefix := testenv.Redis(t)
	finishItems(t, queue.New(rdb, prefix))
	for _, tc := range []struct {
		items    []string
		code     int
		statuses []string // of the histories printed, in order
	}{
		{[]string{"packages/good.tar"}, 0, []string{"success"}},
		{[]string{"packages/waiting.tar"}, 0, []string{"queued"}},
		{[]string{"packages/good.tar", "packages/waiting.tar"}, 0, []string{"success", "queued"}},
		{[]string{"packages/nope.tar"}, exitUnknown, []string{}},
		{[]string{"packages/good.tar", "packages/nope.tar"}, exitUnknown, []string{"success"}},
		{[]string{"packages/bad.tar"}, exitFailed, []string{"failure"}},
		{[]string{"packages/nope.tar", "packages/bad.tar"}, exitFailed, []string{"failure"}},
	} {
		stdout, stderr, code := runMain(t, prefix, append([]string{"status", "--json"}, tc.items...)...)
		if code != tc.code {
			t.Errorf("status --json %v: exit %d, want %d (stderr %q)", tc.items, code, tc.code, stderr)
		}
		var hs []queue.History
		if err := json.Unmarshal([]byte(stdout), &hs); err != nil {
			t.Errorf("status --json %v: stdout is not JSON (%v):\n%s", tc.items, err, stdout)
			continue
		}
		got := []string{}
		for _, h := range hs {
			got = append(got, string(h.Status))
		}
		if strings.Join(got, ",") != strings.Join(tc.statuses, ",") {
			t.Errorf("status --json %v: statuses %v, want %v", tc.items, got, tc.statuses)
		}
		if strings.Contains(strings.Join(tc.items, " "), "nope") != strings.Contains(stderr, "packages/nope.tar: unknown item") {
			t.Errorf("status --json %v: stderr %q does not name exactly the unknown item", tc.items, stderr)
		}
	}

	// The text form says the same with the same codes.
	stdout, _, code := runMain(t, prefix, "status", "packages/nope.tar")
	if code != exitUnknown || !strings.Contains(stdout, "packages/nope.tar: unknown item") {
		t.Errorf("status of an unknown item: exit %d, stdout %q", code, stdout)
	}
	stdout, _, code = runMain(t, prefix, "status", "packages/bad.tar")
	if code != exitFailed || !strings.Contains(stdout, "status:    failure") || !strings.Contains(stdout, "not a package") {
		t.Errorf("status of a failed item: exit %d, stdout %q", code, stdout)
	}
}

func TestStatusShowsDegradedWorkers(t *testing.T) {
	t.Parallel()
	rdb, prefix := testenv.Redis(t)
	q := queue.New(rdb, prefix)
	ctx := context.Background()
	var out bytes.Buffer
	testenv.Must(t, printDegraded(ctx, q, &out), "print degraded")
	if out.Len() != 0 {
		t.Errorf("degraded section with no degraded worker:\n%s", out.String())
	}
	testenv.Must(t, q.MarkDegraded(ctx, "preprocessor-3", "12 of the last 20 items had to be retried", time.Minute), "mark")
	stdout, _, code := runMain(t, prefix, "status")
	if code != 0 || !strings.Contains(stdout, "DEGRADED WORKER") || !strings.Contains(stdout, "preprocessor-3") ||
		!strings.Contains(stdout, "12 of the last 20 items") {
		t.Errorf("pvs status (exit %d) does not show the degraded worker:\n%s", code, stdout)
	}
}

// `pvs retry --match` queues the failures matching the pattern only, and
// the verbs name what is wrong with a request before doing any of it.
func TestRetryMatchAndRequestErrors(t *testing.T) {
	t.Parallel()
	rdb, prefix := testenv.Redis(t)
	q := queue.New(rdb, prefix)
	finishItems(t, q)
	stdout, stderr, code := runMain(t, prefix, "retry", "--stage", "preprocess", "--match", "packages/b*")
	if code != 0 || stdout != "queued again on preprocess_queue: packages/bad.tar\n" {
		t.Errorf("retry --match: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	stdout, _, code = runMain(t, prefix, "retry", "--stage", "preprocess", "--match", "packages/b*")
	if code != 0 || stdout != "already queued or in flight on preprocess_queue, left as it is: packages/bad.tar\n" {
		t.Errorf("retry --match again: exit %d, stdout %q", code, stdout)
	}
	for _, tc := range []struct {
		args []string
		says string
	}{
		{[]string{"retry", "--stage", "nope"}, `pvs: unknown stage "nope" (want preprocess, register, seed or deregister)`},
		{[]string{"enqueue", "-q", "nope_queue", "x"}, `pvs: --queue: unknown queue "nope_queue"`},
		{[]string{"enqueue", "-q", "preprocess-md_queue", "{"}, `pvs: preprocess-md_queue items are JSON documents; "{" is not`},
		{[]string{"enqueue", "ok.tar", ""}, `pvs: "": empty item`},
	} {
		stdout, stderr, code := runMain(t, prefix, tc.args...)
		if code != 1 || stdout != "" || !strings.HasPrefix(stderr, tc.says) {
			t.Errorf("pvs %q: exit %d, stdout %q, stderr %q; want 1 and %q", tc.args, code, stdout, stderr, tc.says)
		}
	}
	if n, _ := rdb.LLen(context.Background(), prefix+"preprocess_queue").Result(); n != 2 {
		t.Errorf("preprocess_queue holds %d items, want waiting.tar and bad.tar only", n)
	}
}
