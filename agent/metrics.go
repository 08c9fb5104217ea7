package agent

import (
	"slices"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/client-go/util/workqueue"

	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/sources"
)

// durationBuckets bound rollouts and steps: from a second to three hours.
var durationBuckets = []float64{1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 10800}

// pollBuckets bound source polls: from 10 ms to two minutes.
var pollBuckets = []float64{0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120}

// rolloutMetrics time rollouts, steps and source polls.
type rolloutMetrics struct {
	rollouts *prometheus.HistogramVec
	steps    *prometheus.HistogramVec
	polls    *prometheus.HistogramVec
	pollErrs *prometheus.CounterVec
	lastPoll *prometheus.GaugeVec

	// seen is how many step outcomes of each running rollout were
	// counted, by rollout ID.
	mu   sync.Mutex
	seen map[string]int
}

func newRolloutMetrics() *rolloutMetrics {
	return &rolloutMetrics{
		rollouts: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "jibe_rollout_duration_seconds",
			Help:    "Duration of finished rollouts, from start to their end, by platform (the environment's targets' platforms joined by +), strategy (as the spec names it) and outcome (succeeded, failed, rolled-back, superseded).",
			Buckets: durationBuckets,
		}, []string{"platform", "strategy", "outcome"}),
		steps: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "jibe_rollout_step_duration_seconds",
			Help:    "Duration of rollout steps, waits included, by kind (apply, wait-healthy, shift-traffic, pause, verify, await-approval, promote, cleanup...) and outcome (ok, failed); _count counts the steps.",
			Buckets: durationBuckets,
		}, []string{"kind", "outcome"}),
		polls: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "jibe_source_poll_duration_seconds",
			Help:    "Duration of Git source polls, failed ones included, by source.",
			Buckets: pollBuckets,
		}, []string{"source"}),
		pollErrs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "jibe_source_poll_errors_total",
			Help: "Failed polls of Git sources, by source.",
		}, []string{"source"}),
		lastPoll: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "jibe_source_last_success_timestamp_seconds",
			Help: "When the last successful poll of a Git source finished (Unix seconds), by source; absent before the first.",
		}, []string{"source"}),
		seen: map[string]int{},
	}
}

func (m *rolloutMetrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.rollouts, m.steps, m.polls, m.pollErrs, m.lastPoll}
}

// Register adds collectors to the registry the agent serves at /metrics:
// those of what is wired beside the agent (github.Reporter.Collectors).
func (a *Agent) Register(cs ...prometheus.Collector) error {
	for _, c := range cs {
		if err := a.metrics.registry.Register(c); err != nil {
			return err
		}
	}
	return nil
}

// countRollout times a rollout's new step outcomes and, when it ends,
// the rollout.
func (a *Agent) countRollout(e reconcile.Event) {
	r := e.Rollout
	if r == nil {
		return
	}
	m := a.metrics.timing
	m.mu.Lock()
	seen, ok := m.seen[r.ID]
	if !ok && e.Kind != reconcile.EventStarted {
		// First seen after a restart: count from the step just recorded.
		seen = max(len(r.Outcomes)-1, 0)
	}
	m.seen[r.ID] = len(r.Outcomes)
	ended := e.Kind == reconcile.EventSucceeded || e.Kind == reconcile.EventFailed ||
		e.Kind == reconcile.EventRolledBack || e.Kind == reconcile.EventSuperseded
	if ended {
		delete(m.seen, r.ID)
	}
	m.mu.Unlock()
	for _, o := range r.Outcomes[min(seen, len(r.Outcomes)):] {
		outcome := "ok"
		if o.Error != "" {
			outcome = "failed"
		}
		m.steps.WithLabelValues(o.Kind.String(), outcome).Observe(o.Finished.Sub(o.Started).Seconds())
	}
	if ended {
		d := a.opts.Clock.Now().Sub(r.Started)
		m.rollouts.WithLabelValues(a.platformsOf(e.App, e.Env), r.Plan.Strategy, e.Kind.String()).Observe(d.Seconds())
	}
}

// platformsOf names the platforms of an environment's targets, sorted
// and joined by "+", "unknown" when the agent does not know them.
func (a *Agent) platformsOf(id reconcile.AppID, env string) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var names []string
	if st := a.byID[id]; st != nil {
		for _, t := range st.targets[env] {
			names = append(names, t.platform)
		}
	}
	slices.Sort(names)
	names = slices.Compact(names)
	if len(names) == 0 {
		return "unknown"
	}
	return strings.Join(names, "+")
}

// countPoll records a poll of the sources st names.
func (a *Agent) countPoll(st sources.Status) {
	m := a.metrics.timing
	for _, name := range st.Sources {
		m.polls.WithLabelValues(name).Observe(st.LastDuration.Seconds())
		errs := m.pollErrs.WithLabelValues(name)
		if st.LastError != nil {
			errs.Inc()
		}
		if !st.LastSuccess.IsZero() {
			m.lastPoll.WithLabelValues(name).Set(float64(st.LastSuccess.UnixNano()) / 1e9)
		}
	}
}

// readyGauge is jibe_agent_ready: 1 once Ready, 0 before.
func readyGauge(a *Agent) prometheus.Collector {
	return prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "jibe_agent_ready",
		Help: "1 once a source has polled successfully (GET /readyz answers 200), 0 before.",
	}, func() float64 {
		if ok, _ := a.Ready(); ok {
			return 1
		}
		return 0
	})
}

// appInfo is jibe_application_info: one series per application and
// environment, built from the agent's views when scraped.
type appInfo struct{ a *Agent }

var appInfoDesc = prometheus.NewDesc("jibe_application_info",
	"What runs in each application environment (always 1): the revision that runs (the last that succeeded, empty if none), "+
		"the environment's state (succeeded, running, failed, rolled-back, superseded, pending, error) and the version of each "+
		"artifact that runs (name=version, comma-separated, sorted by name). One series per application and environment.",
	[]string{"source", "application", "environment", "revision", "state", "artifacts"}, nil)

// Describe describes jibe_application_info.
func (appInfo) Describe(ch chan<- *prometheus.Desc) { ch <- appInfoDesc }

// Collect gives one series per application and environment.
func (c appInfo) Collect(ch chan<- prometheus.Metric) {
	for _, app := range c.a.Applications() {
		for _, env := range app.Environments {
			ch <- prometheus.MustNewConstMetric(appInfoDesc, prometheus.GaugeValue, 1,
				app.Source, app.Name, env.Name, env.Revision, env.State, artifactLabel(env.Running))
		}
	}
}

// artifactLabel is "name=version,..." of the artifacts of v, by name.
func artifactLabel(v *VersionView) string {
	if v == nil {
		return ""
	}
	parts := make([]string, 0, len(v.Artifacts))
	for _, art := range v.Artifacts {
		version := art.Version
		if version == "" {
			version = art.Ref
		}
		parts = append(parts, art.Name+"="+version)
	}
	slices.Sort(parts)
	return strings.Join(parts, ",")
}

// queueMetrics is the work queue's workqueue.MetricsProvider: the
// metrics Kubernetes controllers expose for theirs, by queue name.
type queueMetrics struct {
	depth            *prometheus.GaugeVec
	adds, retries    *prometheus.CounterVec
	latency, work    *prometheus.HistogramVec
	unfinished, long *prometheus.GaugeVec
}

var queueBuckets = prometheus.ExponentialBuckets(0.001, 4, 10) // 1 ms to about 4.4 min

func newQueueMetrics() *queueMetrics {
	gauge := func(name, help string) *prometheus.GaugeVec {
		return prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, []string{"name"})
	}
	counter := func(name, help string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, []string{"name"})
	}
	histogram := func(name, help string) *prometheus.HistogramVec {
		return prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: name, Help: help, Buckets: queueBuckets}, []string{"name"})
	}
	return &queueMetrics{
		depth:      gauge("workqueue_depth", "Keys waiting in the agent's work queue (applications, pull request previews, deletions), by queue name."),
		adds:       counter("workqueue_adds_total", "Keys added to the work queue, by queue name."),
		retries:    counter("workqueue_retries_total", "Keys re-queued after a delay (waits, backoffs), by queue name."),
		latency:    histogram("workqueue_queue_duration_seconds", "How long a key waited in the work queue before a worker took it, by queue name."),
		work:       histogram("workqueue_work_duration_seconds", "How long a worker took to reconcile a key, by queue name."),
		unfinished: gauge("workqueue_unfinished_work_seconds", "Seconds of work in progress not yet finished, summed over the workers, by queue name: a large value with few keys is a stuck worker."),
		long:       gauge("workqueue_longest_running_processor_seconds", "Seconds the longest running worker has been at its key, by queue name."),
	}
}

func (q *queueMetrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{q.depth, q.adds, q.retries, q.latency, q.work, q.unfinished, q.long}
}

// NewDepthMetric implements workqueue.MetricsProvider.
func (q *queueMetrics) NewDepthMetric(name string) workqueue.GaugeMetric {
	return q.depth.WithLabelValues(name)
}

// NewAddsMetric implements workqueue.MetricsProvider.
func (q *queueMetrics) NewAddsMetric(name string) workqueue.CounterMetric {
	return q.adds.WithLabelValues(name)
}

// NewLatencyMetric implements workqueue.MetricsProvider.
func (q *queueMetrics) NewLatencyMetric(name string) workqueue.HistogramMetric {
	return q.latency.WithLabelValues(name)
}

// NewWorkDurationMetric implements workqueue.MetricsProvider.
func (q *queueMetrics) NewWorkDurationMetric(name string) workqueue.HistogramMetric {
	return q.work.WithLabelValues(name)
}

// NewUnfinishedWorkSecondsMetric implements workqueue.MetricsProvider.
func (q *queueMetrics) NewUnfinishedWorkSecondsMetric(name string) workqueue.SettableGaugeMetric {
	return q.unfinished.WithLabelValues(name)
}

// NewLongestRunningProcessorSecondsMetric implements workqueue.MetricsProvider.
func (q *queueMetrics) NewLongestRunningProcessorSecondsMetric(name string) workqueue.SettableGaugeMetric {
	return q.long.WithLabelValues(name)
}

// NewRetriesMetric implements workqueue.MetricsProvider.
func (q *queueMetrics) NewRetriesMetric(name string) workqueue.CounterMetric {
	return q.retries.WithLabelValues(name)
}
