package bench

import (
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// loadResult is what one load run measured.
type loadResult struct {
	Requests int
	Errors   int
	Rate     float64 // requests per second
	P50, P99 time.Duration
}

func (r loadResult) String() string {
	return fmt.Sprintf("%.0f req/s, p50 %.2f ms, p99 %.2f ms, %d requests, %d errors",
		r.Rate, ms(r.P50), ms(r.P99), r.Requests, r.Errors)
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// load sends GETs for urls (in a shuffled order, cycling) from conc
// keep-alive connections for the duration, and reads every body. A response
// other than 200 counts as an error.
func load(urls []string, conc int, d time.Duration) loadResult {
	tr := &http.Transport{MaxIdleConns: conc, MaxIdleConnsPerHost: conc, DisableCompression: true}
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	defer tr.CloseIdleConnections()
	order := rand.New(rand.NewPCG(11, 13)).Perm(len(urls))
	var next atomic.Int64
	var errs atomic.Int64
	lats := make([][]time.Duration, conc)
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	t0 := time.Now()
	for w := 0; w < conc; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for time.Now().Before(deadline) {
				u := urls[order[int(next.Add(1))%len(order)]]
				s := time.Now()
				resp, err := client.Get(u)
				if err != nil {
					errs.Add(1)
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					errs.Add(1)
				}
				lats[w] = append(lats[w], time.Since(s))
			}
		}(w)
	}
	wg.Wait()
	el := time.Since(t0)
	var all []time.Duration
	for _, l := range lats {
		all = append(all, l...)
	}
	sort.Slice(all, func(a, b int) bool { return all[a] < all[b] })
	r := loadResult{Requests: len(all), Errors: int(errs.Load()), Rate: float64(len(all)) / el.Seconds()}
	if len(all) > 0 {
		r.P50, r.P99 = all[len(all)/2], all[len(all)*99/100]
	}
	return r
}

const wrkScript = `
local paths = {}
local n = 0
init = function(args)
  for line in io.lines(args[1]) do paths[#paths + 1] = line end
  n = math.random(#paths)
end
request = function()
  n = n % #paths + 1
  return wrk.format("GET", paths[n])
end
`

// loadWrk runs wrk over the URLs (all on one host) with conc connections
// and 2 threads, when wrk is installed; ok is false otherwise.
func loadWrk(urls []string, conc int, d time.Duration) (loadResult, bool, error) {
	bin, err := exec.LookPath("wrk")
	if err != nil || len(urls) == 0 {
		return loadResult{}, false, nil
	}
	u, err := url.Parse(urls[0])
	if err != nil {
		return loadResult{}, true, err
	}
	dir, err := os.MkdirTemp("", "pvs-wrk-")
	if err != nil {
		return loadResult{}, true, err
	}
	defer os.RemoveAll(dir)
	var paths strings.Builder
	for _, s := range urls {
		p, _ := url.Parse(s)
		paths.WriteString(p.RequestURI() + "\n")
	}
	os.WriteFile(filepath.Join(dir, "paths"), []byte(paths.String()), 0o644)
	os.WriteFile(filepath.Join(dir, "paths.lua"), []byte(wrkScript), 0o644)
	out, err := exec.Command(bin, "-t2", "-c"+strconv.Itoa(conc), "-d"+strconv.Itoa(int(d.Seconds()))+"s", "--latency",
		"-s", filepath.Join(dir, "paths.lua"), u.Scheme+"://"+u.Host, "--", filepath.Join(dir, "paths")).CombinedOutput()
	if err != nil {
		return loadResult{}, true, fmt.Errorf("wrk: %v\n%s", err, out)
	}
	var r loadResult
	if m := regexp.MustCompile(`Requests/sec:\s+([\d.]+)`).FindSubmatch(out); m != nil {
		r.Rate, _ = strconv.ParseFloat(string(m[1]), 64)
	}
	if m := regexp.MustCompile(`(\d+) requests in`).FindSubmatch(out); m != nil {
		r.Requests, _ = strconv.Atoi(string(m[1]))
	}
	if m := regexp.MustCompile(`Non-2xx or 3xx responses: (\d+)`).FindSubmatch(out); m != nil {
		r.Errors, _ = strconv.Atoi(string(m[1]))
	}
	r.P50 = wrkLatency(out, "50%")
	r.P99 = wrkLatency(out, "99%")
	return r, true, nil
}

func wrkLatency(out []byte, pct string) time.Duration {
	m := regexp.MustCompile(regexp.QuoteMeta(pct) + `\s+([\d.]+)(us|ms|s)`).FindSubmatch(out)
	if m == nil {
		return 0
	}
	v, _ := strconv.ParseFloat(string(m[1]), 64)
	switch string(m[2]) {
	case "us":
		return time.Duration(v * float64(time.Microsecond))
	case "ms":
		return time.Duration(v * float64(time.Millisecond))
	}
	return time.Duration(v * float64(time.Second))
}

// measure uses wrk when installed, else the Go load generator.
func measure(urls []string, conc int, d time.Duration) (loadResult, string, error) {
	r, ok, err := loadWrk(urls, conc, d)
	if ok {
		return r, "wrk", err
	}
	return load(urls, conc, d), "go", nil
}
