package agent

import (
	"flag"
	"fmt"
	"net/http"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"k8s.io/client-go/rest"

	"github.com/jibe-dev/jibe/internal/testenv/kube"
	"github.com/jibe-dev/jibe/providers/kubernetes"
	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/spec"
)

var benchApps = flag.Int("agent.apps", 100, "applications in BenchmarkSync")

// counter counts the requests a client sends to kube-apiserver.
type counter struct {
	base     http.RoundTripper
	requests atomic.Int64
}

func (c *counter) RoundTrip(r *http.Request) (*http.Response, error) {
	c.requests.Add(1)
	return c.base.RoundTrip(r)
}

// BenchmarkSync measures what the README's cost figures compare with Flux:
// a cold sync of N applications (a Deployment of two pods and a Service
// each, one namespace each) from one push, and the kube API requests and CPU of
// idle resync passes over them afterwards.
//
//	go test ./agent -run '^$' -bench Sync -benchtime 1x
func BenchmarkSync(b *testing.B) {
	for b.Loop() {
		benchmarkSync(b, *benchApps)
	}
}

func benchmarkSync(b *testing.B, n int) {
	c := kube.Shared(b)
	cfg := c.RESTConfig()
	count := &counter{}
	cfg.WrapTransport = func(rt http.RoundTripper) http.RoundTripper { count.base = rt; return count }
	platform := kubernetes.New(map[string]*rest.Config{"test": cfg})
	defer platform.Close()
	h := newHarnessWith(b, e2eConfig, func(_ *harness, o *Options) {
		o.Platforms = map[spec.Platform]reconcile.Platform{spec.PlatformKubernetes: platform}
	})
	files := map[string]string{}
	for i := range n {
		ns := c.NewNamespace(b)
		app := fmt.Sprintf("app%03d", i)
		files["apps/"+app+"/jibe.yaml"] = fmt.Sprintf(`apiVersion: jibe.dev/v1alpha1
kind: Application
metadata: {name: %s}
spec:
  targets: [{name: web, kubernetes: {manifests: k8s}}]
  environments: [{name: prod, kubernetes: {cluster: test, namespace: %s}}]
`, app, ns)
		files["apps/"+app+"/k8s/app.yaml"] = webManifests("registry.example.com/web:1", 600)
	}
	start := time.Now()
	h.commit(files)
	h.poll()
	synced := func() bool {
		for i := range n {
			r, err := h.journal.Current(reconcile.AppID{Source: "shop", Name: fmt.Sprintf("app%03d", i)}, "prod")
			if err != nil || r.State != reconcile.RolloutSucceeded {
				return false
			}
		}
		return true
	}
	for !synced() {
		h.drain()
		if time.Since(start) > 5*time.Minute {
			b.Fatalf("cold sync of %d applications not done after 5 minutes", n)
		}
		h.agent.resync() // the health waits are short: come back at once
	}
	b.ReportMetric(time.Since(start).Seconds(), "cold-sync-s")

	const passes = 10
	before, cpu := count.requests.Load(), cpuTime()
	for range passes {
		h.agent.resync()
		h.drain()
	}
	b.ReportMetric(float64(count.requests.Load()-before)/passes, "requests/idle-pass")
	b.ReportMetric(float64(cpuTime()-cpu)/float64(time.Millisecond)/passes, "cpu-ms/idle-pass")
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
