package hatest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/jibe-dev/jibe/internal/testenv/agentproc"
)

// BenchmarkColdSync measures 1,000 applications (a ConfigMap each) pushed
// in one commit to agents sharing the journal in the cluster: one agent,
// then three shards. Reported per run:
//
//   - sync-s: from the push to every application's rollout succeeded in
//     the journal (ns/op is the same time);
//   - statuses-s: from the push to every success status posted;
//   - cpu-s/replica, max-cpu-s/replica: the agents' CPU time (user+system,
//     from the start of the processes to their orderly stop), mean and
//     largest;
//   - peak-rss-MB/replica: the largest peak resident set of the agents.
//
// Run it once per configuration:
//
//	JIBE_K8S_BIN_DIR=~/.cache/jibe/k8s-v1.35.4/bin go test ./internal/hatest -run '^$' -bench ColdSync -benchtime 1x -timeout 30m
func BenchmarkColdSync(b *testing.B) {
	for _, replicas := range []int{1, 3} {
		b.Run(fmt.Sprintf("apps=1000/agents=%d", replicas), func(b *testing.B) {
			for range b.N {
				coldSync(b, 1000, replicas)
			}
		})
	}
}

func coldSync(b *testing.B, n, replicas int) {
	b.StopTimer()
	e := newEnv(b, envOptions{Sharding: true})
	var agents []*agent
	for i := range replicas {
		agents = append(agents, e.start(fmt.Sprintf("r%d", i)))
	}
	e.waitReady(agents...)
	e.waitMembers(agents)
	j := e.journal()

	b.StartTimer()
	start := time.Now()
	v := e.push(cheapApps(e.appNS, n, "1"))
	agentproc.Poll(b, 15*time.Minute, "every application rolled out", newRollouts(j, n, v).left)
	sync := time.Since(start)
	b.StopTimer()
	agentproc.Poll(b, 5*time.Minute, "every success status", func() (bool, string) {
		got := e.successes(v)
		return got == n, fmt.Sprintf("%d successes", got)
	})
	statuses := time.Since(start)

	var cpu []time.Duration
	var peak int64
	for _, a := range agents {
		if !a.proc.Stop(30 * time.Second) {
			b.Errorf("%s did not stop within 30s of SIGTERM", a.proc.Describe())
		}
		u := a.proc.Usage()
		cpu = append(cpu, u.CPU)
		peak = max(peak, u.MaxRSS)
	}
	var total time.Duration
	for _, c := range cpu {
		total += c
	}
	b.ReportMetric(sync.Seconds(), "sync-s")
	b.ReportMetric(statuses.Seconds(), "statuses-s")
	b.ReportMetric(total.Seconds()/float64(len(cpu)), "cpu-s/replica")
	b.ReportMetric(slices.Max(cpu).Seconds(), "max-cpu-s/replica")
	b.ReportMetric(float64(peak)/(1<<20), "peak-rss-MB/replica")
	b.Logf("%d applications, %d agents: synced in %s, statuses in %s; CPU per agent %v; peak RSS %.0f MB",
		n, replicas, sync.Round(time.Millisecond), statuses.Round(time.Millisecond), cpu, float64(peak)/(1<<20))
}
