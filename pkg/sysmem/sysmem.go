package sysmem

import (
	"bufio"
	"os"
	"strconv"
	"strings"
)

// Limit returns the bytes this process may use, and where that figure
// comes from ("cgroup v2", "cgroup v1", "physical"), or 0 and "" when
// nothing can be read.
func Limit() (int64, string) {
	return limit(os.ReadFile)
}

// unlimited is what cgroup v1 reports for "no limit" (a page-aligned
// MaxInt64) and above which v2's numbers mean the same.
const unlimited = 1 << 62

func limit(read func(string) ([]byte, error)) (int64, string) {
	phys := physical(read)
	if b, err := read("/sys/fs/cgroup/memory.max"); err == nil {
		if v, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64); err == nil && v > 0 && v < unlimited && (phys == 0 || v < phys) {
			return v, "cgroup v2"
		}
	}
	if b, err := read("/sys/fs/cgroup/memory/memory.limit_in_bytes"); err == nil {
		if v, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64); err == nil && v > 0 && v < unlimited && (phys == 0 || v < phys) {
			return v, "cgroup v1"
		}
	}
	if phys > 0 {
		return phys, "physical"
	}
	return 0, ""
}

// physical reads MemTotal from /proc/meminfo.
func physical(read func(string) ([]byte, error)) int64 {
	b, err := read("/proc/meminfo")
	if err != nil {
		return 0
	}
	sc := bufio.NewScanner(strings.NewReader(string(b)))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 2 && f[0] == "MemTotal:" {
			kb, err := strconv.ParseInt(f[1], 10, 64)
			if err == nil {
				return kb << 10
			}
		}
	}
	return 0
}

// Share returns fraction of the limit in MiB, clamped to [min, max] MiB;
// min when the limit is unknown.
func Share(fraction float64, min, max int64) int64 {
	l, _ := Limit()
	if l <= 0 {
		return min
	}
	mb := int64(float64(l>>20) * fraction)
	if mb < min {
		return min
	}
	if mb > max {
		return max
	}
	return mb
}
