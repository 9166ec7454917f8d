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
