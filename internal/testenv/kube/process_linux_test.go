package kube_test

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/jibe-dev/jibe/internal/testenv/kube"
)

// liveGroupMembers returns the live (not zombie) processes in process group
// pgid, read from /proc.
func liveGroupMembers(t *testing.T, pgid int) []string {
	t.Helper()
	stats, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil {
		t.Fatal(err)
	}
	var live []string
	for _, path := range stats {
		raw, err := os.ReadFile(path)
		if err != nil {
			continue // The process ended meanwhile.
		}
		// Fields after "(comm)": state ppid pgrp ...
		end := bytes.LastIndexByte(raw, ')')
		fields := strings.Fields(string(raw[end+1:]))
		if len(fields) < 3 || fields[0] == "Z" || fields[2] != strconv.Itoa(pgid) {
			continue
		}
		live = append(live, string(raw[:end+1]))
	}
	return live
}

// waitGroupsGone waits until none of the process groups has a live member.
func waitGroupsGone(t *testing.T, pgids []int) {
	t.Helper()
	var left []string
	err := wait.PollUntilContextTimeout(t.Context(), 20*time.Millisecond, 30*time.Second, true, func(context.Context) (bool, error) {
		left = nil
		for _, pgid := range pgids {
			left = append(left, liveGroupMembers(t, pgid)...)
		}
		return len(left) == 0, nil
	})
	if err != nil {
		t.Fatalf("processes left running: %v", left)
	}
}

func TestStopLeavesNoProcesses(t *testing.T) {
	kube.Shared(t) // Same -short policy as the other cluster tests.
	c, err := kube.Start(t.Context(), kube.Options{Nodes: 1})
	if err != nil {
		t.Fatal(err)
	}
	pids := c.PIDs()
	if len(pids) != 5 {
		t.Errorf("%d processes, want 5 (etcd, apiserver, controller-manager, scheduler, kwok)", len(pids))
	}
	for _, pid := range pids {
		if len(liveGroupMembers(t, pid)) == 0 {
			t.Errorf("process group %d has no live process before Stop", pid)
		}
	}
	begin := time.Now()
	c.Stop()
	t.Logf("Start took %s, Stop %s", c.StartDuration(), time.Since(begin))
	for _, pid := range pids { // Stop reaps them all before returning: no waiting.
		if left := liveGroupMembers(t, pid); len(left) > 0 {
			t.Errorf("after Stop, process group %d still has %v", pid, left)
		}
	}
	if _, err := os.Stat(c.Dir()); !os.IsNotExist(err) {
		t.Errorf("after Stop, %s: %v, want it removed", c.Dir(), err)
	}
}

func TestPanickingTestBinaryLeavesNoProcesses(t *testing.T) {
	kube.Shared(t)
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashHelperEnv+"=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err == nil {
		t.Fatal("the crash helper exited 0, want a panic")
	}
	var pids []int
	var dir string
	scanner := bufio.NewScanner(bytes.NewReader(out))
	for scanner.Scan() {
		if rest, ok := strings.CutPrefix(scanner.Text(), "DIR "); ok {
			dir = rest
		}
		if rest, ok := strings.CutPrefix(scanner.Text(), "PIDS "); ok {
			for _, f := range strings.Fields(rest) {
				pid, _ := strconv.Atoi(f)
				pids = append(pids, pid)
			}
		}
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) }) // Stop never ran.
	if len(pids) != 5 {
		t.Fatalf("crash helper printed PIDs %v, want 5; stderr:\n%s", pids, stderr.String())
	}
	if !strings.Contains(stderr.String(), "deliberate panic") {
		t.Fatalf("crash helper did not panic; stderr:\n%s", stderr.String())
	}
	waitGroupsGone(t, pids)
}
