package dashboard

import (
	"fmt"
	"io"
	"net/url"
	"syscall"
	"testing"
	"time"

	"github.com/jibe-dev/jibe/agent"
	"github.com/jibe-dev/jibe/reconcile"
)

// fleet returns n applications of 3 environments each, as the agent's
// views show them: every tenth rolling a canary out in production, every
// twentieth rolled back in staging, the rest in sync, each environment
// with one target of 3 instances.
func fleet(n int) []agent.AppView {
	views := make([]agent.AppView, n)
	for i := range views {
		name := fmt.Sprintf("app-%04d", i)
		rev, old := fmt.Sprintf("%040x", i+1), fmt.Sprintf("%040x", i+100000)
		v := agent.AppView{ID: "shop/" + name, Name: name, Source: "shop", Folder: "apps/" + name, Revision: rev}
		for _, env := range []string{"dev", "staging", "production"} {
			e := agent.EnvView{Name: env, Revision: rev, State: "succeeded", Updated: at, LastGood: rev,
				Running: version1(rev, "1.2."+fmt.Sprint(i)), Wanted: version1(rev, "1.2."+fmt.Sprint(i)),
				Rollout: &agent.RolloutSummary{Revision: rev, State: "succeeded", Strategy: "rolling", Mode: "rolling", Step: -1, Steps: 3},
				Targets: []agent.TargetView{{Name: "web", Platform: "ecs", Health: "healthy", Observed: at,
					Instances: &reconcile.Instances{Desired: 3, Running: 3, Healthy: 3}}}}
			switch {
			case i%10 == 0 && env == "production":
				e.State, e.Step, e.Revision, e.Running = "running", "verify", old, version1(old, "1.1.0")
				e.Rollout = &agent.RolloutSummary{Revision: rev, State: "running", Strategy: "canary", Mode: "canary", Step: 2, Steps: 5, Weight: ptr(20.0)}
			case i%20 == 5 && env == "staging":
				e.State, e.Reason, e.Revision, e.Running = "rolled-back", "canary 5xx rate failed: 12.5 above max 5", old, version1(old, "1.1.0")
			}
			v.Environments = append(v.Environments, e)
		}
		views[i] = v
	}
	return views
}

// BenchmarkMatrix renders the version matrix of 1,000 applications × 3
// environments from the agent's views, as GET / does (the views
// themselves are the API's list call, benchmarked in agent).
//
//	go test -run '^$' -bench Matrix -benchmem ./dashboard
func BenchmarkMatrix(b *testing.B) {
	views := fleet(1000)
	pages := parseTemplates()
	var size int
	cpu := cpuTime()
	for b.Loop() {
		m := buildMatrix(views, filterOf(url.Values{}))
		w := &countingWriter{}
		if err := pages.ExecuteTemplate(w, "matrix", page{Title: "Applications", Now: at, Body: m}); err != nil {
			b.Fatal(err)
		}
		size = w.n
	}
	b.ReportMetric(float64(cpuTime()-cpu)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
	b.ReportMetric(float64(size)/1024, "KiB/page")
}

// cpuTime is the process's user and system CPU time so far: on a busy
// machine, ns/op counts the time others ran too.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

type countingWriter struct{ n int }

func (w *countingWriter) Write(p []byte) (int, error) { w.n += len(p); return len(p), nil }

var _ io.Writer = (*countingWriter)(nil)
