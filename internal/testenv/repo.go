package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// RepoRoot returns the checkout's root: the first folder holding go.mod
// above the test's working directory.
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	Must(t, err, "getwd")
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		if filepath.Dir(dir) == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = filepath.Dir(dir)
	}
}

// PVSBinary returns $PVS_BIN (make builds bin/pvs), or builds one for the
// test.
func PVSBinary(t testing.TB) string {
	t.Helper()
	if b := os.Getenv("PVS_BIN"); b != "" {
		return b
	}
	out := filepath.Join(t.TempDir(), "pvs")
	cmd := exec.Command("go", "build", "-o", out, "./cmd/pvs")
	cmd.Dir = RepoRoot(t)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build pvs: %v\n%s", err, b)
	}
	return out
}

// Chromium finds the browser for headless tests: $PVS_CHROMIUM, else
// chromium on the PATH. The test is skipped without one, unless
// PVS_INTEGRATION=1 makes that a failure.
func Chromium(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("PVS_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("PVS_INTEGRATION") == "1" {
		t.Fatal("chromium is not installed (apt-get install chromium; scripts/deps.sh)")
	}
	t.Skip("chromium is not installed; PVS_INTEGRATION=1 makes this a failure")
	return ""
}
