package agent

import (
	"encoding/json"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/jibe-dev/jibe/reconcile"
)

// metrics are the agent's Prometheus metrics.
type metrics struct {
	registry   *prometheus.Registry
	reconciles *prometheus.CounterVec
	events     *prometheus.CounterVec
	drift      *prometheus.CounterVec
	loads      *prometheus.CounterVec
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
	}
	m.registry.MustRegister(m.reconciles, m.events, m.drift, m.loads,
		prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}))
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
