package checks

import (
	"context"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"

	"github.com/jibe-dev/jibe/config"
	"github.com/jibe-dev/jibe/internal/promemu"
	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/spec"
)

func promCheck(server, query string, t spec.Threshold) *spec.Check {
	return withDefaults(spec.Check{Prometheus: &spec.PrometheusCheck{Server: server, Query: query, Threshold: t}})
}

func TestPrometheusMeasure(t *testing.T) {
	prom := promemu.New()
	srv := httptest.NewServer(prom)
	defer srv.Close()
	now := time.Date(2026, 1, 1, 0, 10, 0, 0, time.UTC)
	p := &Prometheus{Servers: []config.PrometheusServer{{Name: "main", URL: srv.URL}}, Clock: clocktesting.NewFakePassiveClock(now)}

	errRate := `sum(rate(http_requests_total{code=~"5..",version="v2"}[5m])) / sum(rate(http_requests_total{version="v2"}[5m]))`
	prom.Set(errRate, promemu.Scalar(0.125))
	prom.Set(`sum(up{job="api"})`, promemu.Vector(promemu.Sample{Value: 3}))
	prom.Set(`up{job="api"}`, promemu.Vector(
		promemu.Sample{Labels: map[string]string{"job": "api", "instance": "a"}, Value: 1},
		promemu.Sample{Labels: map[string]string{"job": "api", "instance": "b"}, Value: 1}))
	prom.Set(`absent_metric`, promemu.Vector())
	prom.Set(`partial`, promemu.Result{Warnings: []string{"remote store eu-1 unreachable"}})
	prom.Set(`0/0`, promemu.Scalar(math.NaN()))
	threshold := spec.Threshold{Max: ptr(0.05)}

	tests := []struct {
		name           string
		check          *spec.Check
		passed, noData bool
		value          float64
		detail         string
	}{
		{"scalar above max", promCheck("main", strings.ReplaceAll(errRate, "v2", "${rollout.version}"), threshold), false, false, 0.125, errRate + " = 0.125, above max 0.05"},
		{"single sample", promCheck("main", `sum(up{job="api"})`, spec.Threshold{Min: ptr(2.0)}), true, false, 3, `sum(up{job="api"}) = 3, within min 2`},
		{"literal URL", promCheck(srv.URL, `sum(up{job="api"})`, spec.Threshold{Min: ptr(4.0)}), false, false, 3, "= 3, below min 4"},
		{"empty vector", promCheck("main", "absent_metric", threshold), false, true, 0, "absent_metric returned no series"},
		{"NaN", promCheck("main", "0/0", threshold), false, true, 0, "0/0 is NaN"},
		{"warnings", promCheck("main", "partial", threshold), false, true, 0, "(warnings: remote store eu-1 unreachable)"},
		{"several series", promCheck("main", `up{job="api"}`, threshold), false, false, 0,
			`up{job="api"} returned 2 series ({instance="a", job="api"}, {instance="b", job="api"}), and a check needs one value: aggregate them, e.g. sum(up{job="api"})`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := p.Measure(context.Background(), tt.check, reconcile.CheckInput{Vars: map[string]string{"rollout.version": "v2"}})
			if err != nil {
				t.Fatal(err)
			}
			if m.Passed != tt.passed || m.NoData != tt.noData || m.Value != tt.value || !strings.Contains(m.Detail, tt.detail) {
				t.Errorf("measurement %+v, want passed=%v noData=%v value=%g detail %q", m, tt.passed, tt.noData, tt.value, tt.detail)
			}
		})
	}
	q := prom.Queries()[0]
	if q.Query != errRate || !q.Time.Equal(now) {
		t.Errorf("first query %q at %v, want the expanded query at %v", q.Query, q.Time, now)
	}
}

func TestPrometheusStallsOnConfigurationErrors(t *testing.T) {
	prom := promemu.New()
	srv := httptest.NewServer(prom)
	defer srv.Close()
	prom.Set("rate(x[5m]", promemu.Error(http.StatusBadRequest, "bad_data", `1:11: parse error: unclosed left parenthesis`))
	prom.Set("overloaded", promemu.Error(http.StatusServiceUnavailable, "unavailable", "too many queries"))
	p := &Prometheus{Servers: []config.PrometheusServer{{Name: "main", URL: srv.URL}}}

	tests := []struct {
		name    string
		check   *spec.Check
		stalled bool
		msg     string
	}{
		{"bad query", promCheck("main", "rate(x[5m]", spec.Threshold{Max: ptr(1.0)}), true, `prometheus main rejected the query "rate(x[5m]": 1:11: parse error`},
		{"unknown server", promCheck("thanos", "up", spec.Threshold{Max: ptr(1.0)}), true, `unknown Prometheus server "thanos": name one of main`},
		{"server overloaded", promCheck("main", "overloaded", spec.Threshold{Max: ptr(1.0)}), false, "too many queries"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := p.Measure(context.Background(), tt.check, reconcile.CheckInput{})
			if err == nil || isStalled(err) != tt.stalled || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %v, want stalled=%v with %q", err, tt.stalled, tt.msg)
			}
		})
	}
}

func TestPrometheusSendsTheBearerToken(t *testing.T) {
	prom := promemu.New()
	srv := httptest.NewServer(prom)
	defer srv.Close()
	prom.RequireBearerToken("s3cret-t0ken")
	prom.Set("sum(up)", promemu.Scalar(1))
	t.Setenv("JIBE_TEST_PROM_TOKEN", "s3cret-t0ken")
	p := &Prometheus{Servers: []config.PrometheusServer{
		{Name: "secured", URL: srv.URL, BearerToken: &config.SecretRef{Env: "JIBE_TEST_PROM_TOKEN"}},
		{Name: "no-token", URL: srv.URL},
	}}
	m, err := p.Measure(context.Background(), promCheck("secured", "sum(up)", spec.Threshold{Min: ptr(1.0)}), reconcile.CheckInput{})
	if err != nil || !m.Passed {
		t.Fatalf("measurement %+v, %v", m, err)
	}
	if got := prom.Queries()[0].Header.Get("Authorization"); got != "Bearer s3cret-t0ken" {
		t.Errorf("Authorization %q", got)
	}
	_, err = p.Measure(context.Background(), promCheck("no-token", "sum(up)", spec.Threshold{Min: ptr(1.0)}), reconcile.CheckInput{})
	if err == nil || isStalled(err) || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("without the token: %v, want a retryable error", err)
	}
	t.Setenv("JIBE_TEST_PROM_TOKEN", "")
	_, err = p.Measure(context.Background(), promCheck("secured", "sum(up)", spec.Threshold{Min: ptr(1.0)}), reconcile.CheckInput{})
	if !isStalled(err) || !strings.Contains(err.Error(), "JIBE_TEST_PROM_TOKEN") {
		t.Errorf("unset token: %v, want a stalled error naming the variable", err)
	}
}
