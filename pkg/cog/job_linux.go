package cog

import (
	"os/exec"
	"syscall"
)

// dieWithParent has the kernel kill the child when the preprocessor dies,
// however it dies (SIGKILL, OOM killer): else GDAL would run on, holding
// memory and the work dir, with nobody to read its result. The signal
// follows the death of the thread that started the child; Go does not end
// its threads while the process lives (only a goroutine that exits while
// locked to its thread does, and none here is).
func dieWithParent(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
}
