package apimetrics

import (
	"net/http"
	"strconv"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// githubMetrics are the rate limits GitHub last reported.
type githubMetrics struct {
	remaining, limit *prometheus.GaugeVec
}

var github = sync.OnceValue(func() *githubMetrics {
	return &githubMetrics{
		remaining: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "jibe_github_rate_limit_remaining",
			Help: "Requests left in GitHub's current rate-limit window, as the last response of the resource (core, search, graphql...) told (X-RateLimit-Remaining, go-github's Response.Rate.Remaining).",
		}, []string{"resource"}),
		limit: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "jibe_github_rate_limit",
			Help: "Requests allowed per GitHub rate-limit window, as the last response of the resource told (X-RateLimit-Limit).",
		}, []string{"resource"}),
	}
})

// GitHubRate returns a transport that records the rate limit every
// GitHub response reports (the headers go-github reads into
// Response.Rate) in jibe_github_rate_limit_remaining and
// jibe_github_rate_limit, then hands the response on. next nil means
// http.DefaultTransport. Put it under any cache of the go-github
// client's transport, next to the network: a 304 revalidation reports
// the limit too, and a cached response's headers are stale.
func GitHubRate(next http.RoundTripper) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	return rateTransport{next}
}

type rateTransport struct{ next http.RoundTripper }

// RoundTrip sends req and records the rate limit its response reports.
func (t rateTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if err == nil {
		recordRate(resp.Header)
	}
	return resp, err
}

// recordRate records the X-RateLimit-* headers of h, when present.
func recordRate(h http.Header) {
	resource := h.Get("X-RateLimit-Resource")
	if resource == "" {
		resource = "core"
	}
	m := github()
	if v, err := strconv.Atoi(h.Get("X-RateLimit-Remaining")); err == nil {
		m.remaining.WithLabelValues(resource).Set(float64(v))
	}
	if v, err := strconv.Atoi(h.Get("X-RateLimit-Limit")); err == nil {
		m.limit.WithLabelValues(resource).Set(float64(v))
	}
}
