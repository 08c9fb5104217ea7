//go:build unix && !linux

package kube

import (
	"os/exec"
	"syscall"
)

// sysProcAttr puts the child in its own process group so that Stop can kill
// everything it spawned. Without Linux's Pdeathsig, a test binary that dies
// without calling Stop leaves the processes behind.
func sysProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }

func startCmd(cmd *exec.Cmd) error { return cmd.Start() }

func killGroup(pgid int) { _ = syscall.Kill(-pgid, syscall.SIGKILL) }

func supported() error { return nil }
