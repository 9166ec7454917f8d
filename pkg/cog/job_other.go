//go:build !linux

package cog

import "os/exec"

// dieWithParent does nothing where the kernel cannot tie the child's life
// to the parent's; cancelling the context still kills it.
func dieWithParent(*exec.Cmd) {}
