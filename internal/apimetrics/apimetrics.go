// Package apimetrics counts what Jibe costs the APIs it calls: the
// requests client-go sends to each Kubernetes API server
// (rest_client_requests_total, rest_client_request_duration_seconds, as
// Kubernetes components name them) and the AWS SDK calls of every
// platform client, by account, region, service, operation and outcome
// (jibe_aws_api_calls_total, with failures and throttled attempts in
// jibe_aws_api_errors_total and jibe_aws_api_throttles_total), and the
// rate limit GitHub reports on each response
// (jibe_github_rate_limit_remaining). All are process-wide, as client-go's
// registration is: Collectors gives them to any Prometheus registry.
package apimetrics

import (
	"context"
	"net/url"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/client-go/tools/metrics"
)

// kubeMetrics are client-go's request metrics.
type kubeMetrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

// kube registers the process's client-go metrics with client-go on first
// use. client-go keeps one registration per process and ignores later
// ones, so it happens once here.
var kube = sync.OnceValue(func() *kubeMetrics {
	k := &kubeMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rest_client_requests_total",
			Help: "Requests client-go sent to Kubernetes API servers, by status code, method and host.",
		}, []string{"code", "method", "host"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "rest_client_request_duration_seconds",
			Help:    "Latency of client-go's requests to Kubernetes API servers, by verb and host.",
			Buckets: []float64{0.005, 0.025, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60},
		}, []string{"verb", "host"}),
	}
	metrics.Register(metrics.RegisterOpts{RequestResult: kubeResult{k}, RequestLatency: kubeLatency{k}})
	return k
})

type kubeResult struct{ k *kubeMetrics }

// Increment counts one request's result.
func (r kubeResult) Increment(_ context.Context, code, method, host string) {
	r.k.requests.WithLabelValues(code, method, host).Inc()
}

type kubeLatency struct{ k *kubeMetrics }

// Observe records one request's latency.
func (l kubeLatency) Observe(_ context.Context, verb string, u url.URL, latency time.Duration) {
	l.k.latency.WithLabelValues(verb, u.Host).Observe(latency.Seconds())
}

// Register starts counting client-go's requests. client-go reads its
// metric hooks without synchronisation and takes only the first
// registration, so a process calls Register once at its start, before
// any Kubernetes client sends (main; a test package's TestMain), not
// while informers run.
func Register() { kube() }

// Collectors returns the process's API metrics, for a Prometheus
// registry, and starts counting client-go's requests. A collector may be
// registered in several registries.
func Collectors() []prometheus.Collector {
	k := kube()
	a := aws()
	return []prometheus.Collector{k.requests, k.latency, a.calls, a.errors, a.throttles, github().remaining, github().limit}
}
