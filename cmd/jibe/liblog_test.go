package main

import (
	"log/slog"
	"sync"
	"testing"

	"k8s.io/klog/v2"

	"github.com/jibe-dev/jibe/config"
)

// An agent started in a process whose informers already log (the tests
// start several agents in one process, beside their own clients) routes
// library logs without a data race: klog's logger is set once, and only
// the destination behind it changes.
func TestRouteLibraryLogsWhileLibrariesLog(t *testing.T) {
	stop, logging := make(chan struct{}), make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		klog.V(4).InfoS("a library line", "n", 0)
		close(logging)
		for {
			select {
			case <-stop:
				return
			default:
				klog.V(4).InfoS("a library line", "n", 1)
			}
		}
	})
	<-logging
	var buf syncBuffer
	for range 3 {
		routeLibraryLogs(newLogger(config.Log{Format: "json", Level: "info"}, &buf))
	}
	close(stop)
	wg.Wait()
	routeLibraryLogs(slog.Default())
}
