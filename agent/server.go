package agent

import (
	"encoding/json"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/jibe-dev/jibe/internal/apimetrics"
	"github.com/jibe-dev/jibe/reconcile"
)

// metrics are the agent's Prometheus metrics.
type metrics struct {
	registry   *prometheus.Registry
	reconciles *prometheus.CounterVec
	events     *prometheus.CounterVec
	drift      *prometheus.CounterVec
	loads      *prometheus.CounterVec
	departed   *prometheus.GaugeVec
	// timing times rollouts, steps and polls; queue is the work queue's.
	timing *rolloutMetrics
	queue  *queueMetrics
}

func newMetrics() *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		reconciles: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "jibe_reconciles_total",
			Help: "Reconciles of applications, by source, application (empty for pull request previews) and outcome (ok, waiting, stalled, error).",
		}, []string{"source", "app", "outcome"}),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "jibe_rollout_events_total",
			Help: "Rollout events, by source, application and kind (started, succeeded, failed, rolled-back, superseded...).",
		}, []string{"source", "app", "kind"}),
		drift: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "jibe_drift_detected_total",
			Help: "Times an environment's live state was found to differ from Git, by source and application.",
		}, []string{"source", "app"}),
		loads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "jibe_spec_loads_total",
			Help: "Loads (decode, validation, rendering) of application specs by the reconciler, by source and application: one per revision and per last good revision a rollback may restore, not one per requeue.",
		}, []string{"source", "app"}),
		departed: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "jibe_departed_applications",
			Help: "Applications removed from Git that still run (1), by source and application: left running because their source does not prune, or while their deletion is in progress or refused.",
		}, []string{"source", "app"}),
		timing: newRolloutMetrics(),
		queue:  newQueueMetrics(),
	}
	m.registry.MustRegister(m.timing.collectors()...)
	m.registry.MustRegister(m.queue.collectors()...)
	m.registry.MustRegister(m.reconciles, m.events, m.drift, m.loads, m.departed,
		prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}))
	// What the agent costs each Kubernetes API server and AWS account.
	m.registry.MustRegister(apimetrics.Collectors()...)
	return m
}

// outcome names a reconcile outcome for metrics.
func outcome(err error) string {
	switch reconcile.PolicyOf(err) {
	case reconcile.PolicyNone:
		return "ok"
	case reconcile.PolicyRequeue:
		return "waiting"
	case reconcile.PolicyStall:
		return "stalled"
	}
	return "error"
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}
