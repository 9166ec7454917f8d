package preprocess

import (
	"encoding/json"
	"fmt"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/pvs/pvs/pkg/cog"
)

// The test binary doubles as the conversion child process: with
// PVS_TEST_CHILD set it behaves like `pvs cog-convert` (or misbehaves, as
// asked) instead of running the tests.
func TestMain(m *testing.M) {
	switch os.Getenv("PVS_TEST_CHILD") {
	case "":
		os.Exit(m.Run())
	case "convert":
		var j cog.Job
		if err := json.NewDecoder(os.Stdin).Decode(&j); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		cog.Init()
		if err := j.Run(nil); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	case "hang":
		time.Sleep(time.Minute)
		os.Exit(0)
	case "crash":
		syscall.Kill(os.Getpid(), syscall.SIGSEGV)
		time.Sleep(time.Minute)
	}
}

func child(t *testing.T, mode string) cog.Subprocess {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return cog.Subprocess{Args: []string{self}, Env: []string{"PVS_TEST_CHILD=" + mode, "GDAL_CACHEMAX=64"}}
}
