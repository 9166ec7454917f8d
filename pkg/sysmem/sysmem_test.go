package sysmem

import (
	"io/fs"
	"testing"
)

func TestLimit(t *testing.T) {
	meminfo := "MemTotal:       24684084 kB\nMemFree:        1000 kB\n"
	for _, c := range []struct {
		name  string
		files map[string]string
		want  int64
		from  string
	}{
		{"v2 limit", map[string]string{"/sys/fs/cgroup/memory.max": "1073741824\n", "/proc/meminfo": meminfo}, 1 << 30, "cgroup v2"},
		{"v2 max", map[string]string{"/sys/fs/cgroup/memory.max": "max\n", "/proc/meminfo": meminfo}, 24684084 << 10, "physical"},
		{"v2 unlimited number", map[string]string{"/sys/fs/cgroup/memory.max": "9223372036854771712\n", "/proc/meminfo": meminfo}, 24684084 << 10, "physical"},
		{"v1 limit", map[string]string{"/sys/fs/cgroup/memory/memory.limit_in_bytes": "536870912", "/proc/meminfo": meminfo}, 512 << 20, "cgroup v1"},
		{"limit above the machine", map[string]string{"/sys/fs/cgroup/memory.max": "99999999999999", "/proc/meminfo": meminfo}, 24684084 << 10, "physical"},
		{"nothing", map[string]string{}, 0, ""},
	} {
		read := func(p string) ([]byte, error) {
			if s, ok := c.files[p]; ok {
				return []byte(s), nil
			}
			return nil, fs.ErrNotExist
		}
		got, from := limit(read)
		if got != c.want || from != c.from {
			t.Errorf("%s: %d (%s), want %d (%s)", c.name, got, from, c.want, c.from)
		}
	}
}

func TestShareIsClamped(t *testing.T) {
	if got := Share(0.25, 192, 1<<40); got < 192 {
		t.Errorf("Share below its minimum: %d", got)
	}
	if got := Share(0.25, 1, 100); got > 100 {
		t.Errorf("Share above its maximum: %d", got)
	}
}
