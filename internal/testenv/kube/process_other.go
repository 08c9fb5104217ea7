//go:build !unix

package kube

import (
	"os/exec"
	"syscall"
)

func sysProcAttr() *syscall.SysProcAttr { return nil }

func startCmd(cmd *exec.Cmd) error { return cmd.Start() }

func killGroup(int) {}

func supported() error { return errUnsupported }
