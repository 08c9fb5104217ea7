package config_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jibe-dev/jibe/config"
)

const watchBase = `apiVersion: jibe.dev/v1alpha1
kind: AgentConfig
sources:
  - name: local
    dir: {path: apps}
    allow: {clusters: [kind], namespaces: ["*"]}
kubernetes:
  clusters:
    - name: kind
      inCluster: true
log: {level: LEVEL}
`

// startWatch runs Watch on a fresh file and returns channels of its
// reports. The debounce is short: these tests wait for fsnotify events,
// which only real time delivers, with a deadline.
func startWatch(t *testing.T) (file string, changes chan *config.Config, problems chan error) {
	t.Helper()
	file = filepath.Join(t.TempDir(), "agent.yaml")
	writeFile(t, file, strings.Replace(watchBase, "LEVEL", "info", 1))
	changes, problems = make(chan *config.Config, 10), make(chan error, 10)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	started := make(chan struct{})
	go func() {
		done <- config.Watch(ctx, file, config.WatchOptions{
			Debounce: 20 * time.Millisecond,
			OnStart:  func() { close(started) },
			OnChange: func(c *config.Config) { changes <- c },
			OnError:  func(err error) { problems <- err },
		})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Watch returned %v", err)
		}
	})
	select {
	case <-started:
	case err := <-done:
		t.Fatalf("Watch did not start: %v", err)
	}
	return file, changes, problems
}

// rewriteUntil rewrites the file until Watch reports on ch: the watch
// may not be registered yet when the first write happens.
func rewriteUntil[T any](t *testing.T, file, content string, ch chan T) T {
	t.Helper()
	deadline := time.After(10 * time.Second)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	writeFile(t, file, content)
	for {
		select {
		case v := <-ch:
			return v
		case <-tick.C:
			// Touch the file again with the same content: Watch reports each
			// content once, so only a missed event makes a difference.
			writeFile(t, file, content)
		case <-deadline:
			t.Fatal("no report from Watch within 10s")
		}
	}
}

func TestWatchReloadsValidChanges(t *testing.T) {
	file, changes, _ := startWatch(t)
	c := rewriteUntil(t, file, strings.Replace(watchBase, "LEVEL", "debug", 1), changes)
	if c.Log.Level != "debug" {
		t.Errorf("level = %q", c.Log.Level)
	}
}

// An invalid file is reported and the previous configuration stays: no
// change is delivered until the file is valid again.
func TestWatchKeepsOldConfigWhenInvalid(t *testing.T) {
	file, changes, problems := startWatch(t)
	err := rewriteUntil(t, file, strings.Replace(watchBase, "LEVEL", "loud", 1), problems)
	if !strings.Contains(err.Error(), "keeping the previous one") || !strings.Contains(err.Error(), `log.level: the value is not allowed`) {
		t.Errorf("problem = %v", err)
	}
	select {
	case c := <-changes:
		t.Fatalf("an invalid file was applied: %+v", c.Log)
	default:
	}
	c := rewriteUntil(t, file, strings.Replace(watchBase, "LEVEL", "warn", 1), changes)
	if c.Log.Level != "warn" {
		t.Errorf("level = %q", c.Log.Level)
	}
}

// Editors and Kubernetes replace the file rather than write it in place.
func TestWatchSeesReplacedFile(t *testing.T) {
	file, changes, _ := startWatch(t)
	deadline := time.After(10 * time.Second)
	for i := 0; ; i++ {
		tmp := file + ".tmp"
		writeFile(t, tmp, strings.Replace(watchBase, "LEVEL", "error", 1))
		if err := os.Rename(tmp, file); err != nil {
			t.Fatal(err)
		}
		select {
		case c := <-changes:
			if c.Log.Level != "error" {
				t.Errorf("level = %q", c.Log.Level)
			}
			return
		case <-time.After(200 * time.Millisecond):
		case <-deadline:
			t.Fatal("replace not seen within 10s")
		}
	}
}
