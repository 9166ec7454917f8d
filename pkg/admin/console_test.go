package admin

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image/png"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/pvs/pvs/internal/testenv"
	"github.com/pvs/pvs/pkg/ops"
	"github.com/pvs/pvs/pkg/queue"
)

// In headless Chromium, the console asks for the token, shows a failed
// item with its reason, and a click on its retry button queues it again;
// a real consumer, whose handler fails the item's first attempt only,
// then succeeds with it, and the console says so in the item's timeline.
// With PVS_SCREENSHOTS=1 the console is saved to docs/images/console.png.
func TestConsoleRetriesAFailedItem(t *testing.T) {
	rdb, prefix := testenv.Redis(t)
	exe := testenv.Chromium(t)
	q := queue.New(rdb, prefix)
	ctx := context.Background()
	srv := httptest.NewServer((&Server{Ops: &ops.Ops{Queue: q, Prefix: prefix}, Token: testToken, BasePath: "/admin",
		Log: slog.New(slog.DiscardHandler)}).Handler())
	defer srv.Close()

	const item = "incoming/2018/VHR_IMAGE_2018_SCENE_0042.tar"
	const reason = "no metadata file in the package (want *.xml or *.json beside the rasters)"
	items := []string{item, "incoming/2018/VHR_IMAGE_2018_SCENE_0040.tar", "incoming/2018/VHR_IMAGE_2018_SCENE_0041.tar",
		"incoming/2018/broken_download.zip"}
	for _, it := range items {
		testenv.Must(t, q.Enqueue(ctx, "preprocess_queue", it), "enqueue %s", it)
	}
	var attempts atomic.Int32
	var release sync.Once
	hold := make(chan struct{})
	defer release.Do(func() { close(hold) })
	stopPre := run(t, q, queue.Preprocess, "preprocessor-7f3c", func(ctx context.Context, it queue.Item) (string, error) {
		log := queue.ItemLogger(ctx, nil)
		log.Info("fetching package", "bytes", 48213504)
		switch {
		case it.Value == item && attempts.Add(1) == 1:
			return "", queue.Permanent(errors.New(reason))
		case strings.Contains(it.Value, "broken"):
			return "", queue.Permanent(errors.New("zip: not a valid zip file"))
		}
		log.Info("COG written", "identifier", strings.TrimSuffix(filepath.Base(it.Value), ".tar"))
		return "VHR_IMAGE_2018/" + strings.TrimSuffix(filepath.Base(it.Value), ".tar"), nil
	})
	defer stopPre()
	// A registrar busy with an item, for the workers table.
	testenv.Must(t, q.Enqueue(ctx, "register_queue", "VHR_IMAGE_2018/VHR_IMAGE_2018_SCENE_0039"), "enqueue")
	stopReg := run(t, q, queue.Register, "registrar-2b91", func(ctx context.Context, it queue.Item) (string, error) {
		<-hold
		return "", nil
	})
	defer stopReg()
	defer release.Do(func() { close(hold) })
	testenv.Eventually(t, 20*time.Second, "the item failed", func() (bool, error) {
		return q.IsMember(ctx, queue.Preprocess.Failure, item)
	})

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1200, 1100),
	)
	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	var mu sync.Mutex
	var problems []string
	tab, cancelTab := chromedp.NewContext(alloc, chromedp.WithListener(func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch ev := ev.(type) {
		case *runtime.EventExceptionThrown:
			problems = append(problems, "uncaught exception: "+ev.ExceptionDetails.Text)
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError {
				problems = append(problems, fmt.Sprintf("console.error: %v", ev.Args))
			}
		}
	}))
	defer cancelTab()
	testenv.Must(t, chromedp.Do(tab), "start %s", exe)
	bctx, cancel := context.WithTimeout(tab, 2*time.Minute)
	defer cancel()
	js := func(what, expr string) {
		t.Helper()
		if _, err := chromedp.Run(bctx, chromedp.Evaluate[any](expr)); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	wait := func(what, expr string) {
		t.Helper()
		if _, err := chromedp.Run(bctx, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(30*time.Second))); err != nil {
			html, _ := chromedp.Run(bctx, chromedp.Evaluate[string]("document.body.innerText"))
			mu.Lock()
			defer mu.Unlock()
			t.Fatalf("waiting for %s: %v\nproblems: %v\npage:\n%s", what, err, problems, html)
		}
	}
	// click presses the mouse on the middle of the element, as a user does.
	click := func(what, selector string) {
		t.Helper()
		xy, err := chromedp.Run(bctx, chromedp.Evaluate[[]float64](fmt.Sprintf(`(() => {
			const e = document.querySelector(%q); e.scrollIntoView({block: "center"});
			const r = e.getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; })()`, selector)))
		if err != nil || len(xy) != 2 {
			t.Fatalf("find %s (%s): %v", what, selector, err)
		}
		testenv.Must(t, chromedp.Do(bctx, chromedp.MouseClickXY(xy[0], xy[1])), "click %s", what)
	}

	testenv.Must(t, chromedp.Do(bctx, chromedp.Navigate(srv.URL+"/admin/")), "open the console")
	wait("the token form", `!document.querySelector("#login").hidden && document.querySelector("#app").hidden`)
	// A wrong token is refused and asked for again.
	js("give a wrong token", `document.querySelector("#token").value = "wrong"; document.querySelector("#login").requestSubmit()`)
	wait("the refusal", `document.querySelector("#login-error").textContent.includes("invalid token")`)
	click("the token field", "#token")
	testenv.Must(t, chromedp.Do(bctx, chromedp.KeyEvent(testToken+"\r")), "type the token")
	wait("the console", `!document.querySelector("#app").hidden && sessionStorage.getItem("pvs-admin-token") !== null`)

	row := fmt.Sprintf(`#failures tr[data-item=%q]`, item)
	wait("the failed item with its reason", fmt.Sprintf(`(() => { const r = document.querySelector(%q);
		return !!r && r.querySelector("td.reason").textContent === %q; })()`, row, reason))
	wait("the stage counts", `document.querySelector('#stages tr[data-stage="preprocess"] [data-count="failure"]').textContent === "2" &&
		document.querySelector('#stages tr[data-stage="preprocess"] [data-count="success"]').textContent === "2"`)
	wait("the workers", `document.querySelector('#workers tr[data-worker="registrar-2b91"]')?.textContent.includes("VHR_IMAGE_2018_SCENE_0039")`)
	click("the item", row+" button.linkish")
	wait("the item's timeline with its log", `document.querySelector("#timeline .status-failure") !== null &&
		document.querySelector("#timeline pre.log").textContent.includes("fetching package bytes=48213504")`)
	if os.Getenv("PVS_SCREENSHOTS") == "1" {
		shot, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
		testenv.Must(t, err, "screenshot")
		if _, err := png.Decode(bytes.NewReader(shot)); err != nil {
			t.Fatalf("screenshot is not a PNG: %v", err)
		}
		out := filepath.Join(testenv.RepoRoot(t), "docs", "images", "console.png")
		testenv.Must(t, os.MkdirAll(filepath.Dir(out), 0o755), "docs/images")
		testenv.Must(t, os.WriteFile(out, shot, 0o644), "save %s", out)
		t.Logf("console saved to %s", out)
	}

	click("the retry button", row+" button.retry")
	wait("the item's success", fmt.Sprintf(`(() => {
		const st = document.querySelector('#timeline .stage-history[data-stage="preprocess"] .status');
		return !!st && st.textContent === "success" && document.querySelector(%q) === null; })()`, row))
	if ok, err := q.IsMember(ctx, queue.Preprocess.Success, item); err != nil || !ok {
		t.Errorf("%s is not in the success set after its retry (%v)", item, err)
	}
	if n := attempts.Load(); n != 2 {
		t.Errorf("the handler saw the item %d times, want 2", n)
	}
	wait("the log of both attempts", `document.querySelector("#timeline pre.log").textContent.includes("[attempt 1] item started") &&
		document.querySelector("#timeline pre.log").textContent.includes("COG written identifier=VHR_IMAGE_2018_SCENE_0042")`)
	mu.Lock()
	defer mu.Unlock()
	if len(problems) > 0 {
		t.Errorf("the page reported problems: %v", problems)
	}
}
