package kube

import (
	"os/exec"
	"runtime"
	"sync"
	"syscall"
)

// sysProcAttr puts the child in its own process group, so that Stop can kill
// everything it spawned, and asks the kernel to SIGKILL it when its parent
// dies: when the test binary exits, panics or is killed by go test -timeout.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// spawner runs functions on one OS thread that lives as long as the process.
// Linux sends Pdeathsig when the *thread* that forked the child ends, and a
// goroutine that locks its thread and exits takes the thread with it; forking
// from a locked goroutine that never returns rules that out.
var spawner = sync.OnceValue(func() chan<- func() {
	ch := make(chan func())
	go func() {
		runtime.LockOSThread() // Never unlocked: the thread must not be reused or ended.
		for f := range ch {
			f()
		}
	}()
	return ch
})

// startCmd starts cmd from the spawner thread.
func startCmd(cmd *exec.Cmd) error {
	errc := make(chan error, 1)
	spawner() <- func() { errc <- cmd.Start() }
	return <-errc
}

func killGroup(pgid int) { _ = syscall.Kill(-pgid, syscall.SIGKILL) }

func supported() error { return nil }
