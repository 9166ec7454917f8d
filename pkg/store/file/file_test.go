package file_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pvs/pvs/pkg/store"
	"github.com/pvs/pvs/pkg/store/file"
	"github.com/pvs/pvs/pkg/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := file.New(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestKeysCannotLeaveTheRoot(t *testing.T) {
	dir := t.TempDir()
	root := filepath.Join(dir, "root")
	s, err := file.New(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"../escape", "a/../../escape", "a//b", "./a", `a\b`} {
		if err := s.Put(context.Background(), k, strings.NewReader("x")); err == nil {
			t.Errorf("Put(%q) succeeded", k)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "escape")); err == nil {
		t.Fatal("a key wrote outside the root")
	}
}
