package preprocess

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pvs/pvs/pkg/cog"
)

// The test binary doubles as the conversion child process: with
// PVS_TEST_CHILD set it behaves like `pvs cog-convert` (or misbehaves, as
// asked) instead of running the tests. The variable reaches the child only
// through Subprocess.Env, so a real deployment cannot trigger these modes.
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
		pidFile(os.Getenv("PVS_TEST_OUT"))
		time.Sleep(time.Minute)
		os.Exit(0)
	case "crash":
		syscall.Kill(os.Getpid(), syscall.SIGSEGV)
		time.Sleep(time.Minute)
	case "kill":
		fmt.Fprintln(os.Stderr, "converting")
		syscall.Kill(os.Getpid(), syscall.SIGKILL)
		time.Sleep(time.Minute)
	case "env":
		// The environment the child was given, for the test to inspect.
		os.WriteFile(os.Getenv("PVS_TEST_OUT"), []byte(strings.Join(os.Environ(), "\n")), 0o600)
		os.Exit(0)
	case "parent":
		// A preprocessor stand-in: starts a hanging conversion child and
		// waits on it, until the test kills this process.
		self, _ := os.Executable()
		sub := cog.Subprocess{Args: []string{self}, Env: []string{"PVS_TEST_CHILD=hang", "PVS_TEST_OUT=" + os.Getenv("PVS_TEST_OUT")}}
		sub.Convert(context.Background(), cog.Job{})
		os.Exit(0)
	}
}

func pidFile(path string) {
	if path != "" {
		os.WriteFile(path, []byte(fmt.Sprint(os.Getpid())), 0o600)
	}
}

func child(t *testing.T, mode string, env ...string) cog.Subprocess {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return cog.Subprocess{Args: []string{self}, Env: append([]string{"PVS_TEST_CHILD=" + mode, "GDAL_CACHEMAX=64"}, env...)}
}
