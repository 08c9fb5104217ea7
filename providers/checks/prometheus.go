package checks

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
	"k8s.io/utils/clock"

	"github.com/jibe-dev/jibe/config"
	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/spec"
)

// queryTimeout bounds one Prometheus query.
const queryTimeout = 30 * time.Second

// Prometheus measures Prometheus checks: an instant query at now whose one
// value is compared with the threshold. The query must return a scalar or
// a single series; an empty result is no data.
type Prometheus struct {
	// Servers are the servers checks may name; a check may also give a URL.
	Servers []config.PrometheusServer
	// HTTP sends the queries. Default http.DefaultClient.
	HTTP *http.Client
	// Clock is the agent's clock. Default the wall clock.
	Clock clock.PassiveClock
}

var _ reconcile.Checker = (*Prometheus)(nil)

// Measure runs c's query once. vars fill ${rollout.*} placeholders in it.
func (p *Prometheus) Measure(ctx context.Context, c *spec.Check, in reconcile.CheckInput) (reconcile.Measurement, error) {
	pc := c.Prometheus
	if pc == nil {
		return reconcile.Measurement{}, reconcile.Stalled(fmt.Errorf("check %q is not a Prometheus check", c.Name))
	}
	srv, err := p.server(pc.Server)
	if err != nil {
		return reconcile.Measurement{}, reconcile.Stalled(err)
	}
	client, err := p.client(srv)
	if err != nil {
		return reconcile.Measurement{}, reconcile.Stalled(err)
	}
	query := expand(pc.Query, in.Vars)
	ctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	v, warnings, _, err := v1.NewAPI(client).Query(ctx, query, p.now())
	if err != nil {
		return reconcile.Measurement{}, queryError(srv.Name, query, err)
	}
	m, err := judgeQuery(query, v, pc.Threshold)
	if len(warnings) > 0 {
		m.Detail += " (warnings: " + strings.Join(warnings, "; ") + ")"
	}
	return m, err
}

func (p *Prometheus) now() time.Time {
	if p.Clock != nil {
		return p.Clock.Now()
	}
	return time.Now()
}

// server finds a configured server by name, or takes a URL as a server.
func (p *Prometheus) server(name string) (config.PrometheusServer, error) {
	var names []string
	for _, s := range p.Servers {
		if s.Name == name {
			return s, nil
		}
		names = append(names, s.Name)
	}
	if strings.HasPrefix(name, "http://") || strings.HasPrefix(name, "https://") {
		return config.PrometheusServer{Name: name, URL: name}, nil
	}
	if len(names) == 0 {
		return config.PrometheusServer{}, fmt.Errorf("unknown Prometheus server %q: the agent configuration lists none; add it under prometheus or give its URL", name)
	}
	return config.PrometheusServer{}, fmt.Errorf("unknown Prometheus server %q: name one of %s in the agent configuration, or give its URL", name, strings.Join(names, ", "))
}

// client returns an API client for srv that sends its bearer token.
func (p *Prometheus) client(srv config.PrometheusServer) (api.Client, error) {
	hc := p.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	if srv.BearerToken != nil {
		token, err := srv.BearerToken.Resolve()
		if err != nil {
			return nil, fmt.Errorf("bearer token of Prometheus server %s: %w", srv.Name, err)
		}
		authed := *hc
		authed.Transport = bearer{token: token, next: transport(hc)}
		hc = &authed
	}
	c, err := api.NewClient(api.Config{Address: srv.URL, Client: hc})
	if err != nil {
		return nil, fmt.Errorf("prometheus server %s: %w", srv.Name, err)
	}
	return c, nil
}

func transport(hc *http.Client) http.RoundTripper {
	if hc.Transport != nil {
		return hc.Transport
	}
	return http.DefaultTransport
}

// bearer sends Authorization: Bearer with every request.
type bearer struct {
	token config.Secret
	next  http.RoundTripper
}

// RoundTrip sends r with the token.
func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token.Reveal())
	return b.next.RoundTrip(r)
}

// queryError stalls on a query the server rejects as invalid and keeps
// other failures (network, overload, timeouts) retryable.
func queryError(server, query string, err error) error {
	var perr *v1.Error
	if errors.As(err, &perr) && perr.Type == v1.ErrBadData {
		return reconcile.Stalled(fmt.Errorf("prometheus %s rejected the query %q: %s", server, query, perr.Msg))
	}
	if errors.As(err, &perr) && perr.Detail != "" {
		return fmt.Errorf("querying prometheus %s: %w: %s", server, err, truncate(strings.TrimSpace(perr.Detail), 200))
	}
	return fmt.Errorf("querying prometheus %s: %w", server, err)
}

// truncate shortens s to at most n bytes, marking the cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}

// judgeQuery decides the measurement from a query's result: a scalar or
// one series is the value, no series is no data, several series fail the
// check, and range vectors or strings stall it.
func judgeQuery(query string, v model.Value, t spec.Threshold) (reconcile.Measurement, error) {
	switch v := v.(type) {
	case *model.Scalar:
		return judgeValue(query, float64(v.Value), "", t), nil
	case model.Vector:
		switch len(v) {
		case 0:
			return reconcile.Measurement{NoData: true, Detail: fmt.Sprintf("%s returned no series", query)}, nil
		case 1:
			return judgeValue(query, float64(v[0].Value), "", t), nil
		}
		return reconcile.Measurement{Detail: manySeries(query, v)}, nil
	}
	return reconcile.Measurement{}, reconcile.Stalled(fmt.Errorf("query %q returns a %s, not one value; make it an instant query that returns a scalar or a single series", query, resultType(v)))
}

// manySeries tells the user to aggregate a query that returned several
// series.
func manySeries(query string, v model.Vector) string {
	var labels []string
	for i, s := range v {
		if i == 3 {
			labels = append(labels, "…")
			break
		}
		labels = append(labels, s.Metric.String())
	}
	return fmt.Sprintf("%s returned %d series (%s), and a check needs one value: aggregate them, e.g. sum(%s)",
		query, len(v), strings.Join(labels, ", "), query)
}

func resultType(v model.Value) string {
	if v == nil {
		return "nothing"
	}
	switch v.Type() {
	case model.ValMatrix:
		return "range vector"
	case model.ValString:
		return "string"
	}
	return v.Type().String()
}
