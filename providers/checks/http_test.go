package checks

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/spec"
)

func httpCheck(url string, mutate func(*spec.HTTPCheck)) *spec.Check {
	c := &spec.Check{HTTP: &spec.HTTPCheck{URL: url}}
	if mutate != nil {
		mutate(c.HTTP)
	}
	app := &spec.Application{Spec: spec.ApplicationSpec{Environments: []spec.Environment{{Verify: []spec.Check{*c}}}}}
	spec.SetDefaults(app)
	return &app.Spec.Environments[0].Verify[0]
}

func TestHTTPMeasure(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/healthz":
			w.Write([]byte("ok: version " + r.Header.Get("X-Revision")))
		case "/down":
			w.WriteHeader(http.StatusServiceUnavailable)
		case "/post":
			if r.Method != http.MethodPost {
				w.WriteHeader(http.StatusMethodNotAllowed)
			}
		}
	}))
	defer srv.Close()
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	vars := map[string]string{"rollout.revision": "abc123"}

	tests := []struct {
		name      string
		check     *spec.Check
		passed    bool
		detailHas string
	}{
		{"healthy", httpCheck(srv.URL+"/healthz", nil), true, "status 200"},
		{"expected body", httpCheck(srv.URL+"/healthz", func(h *spec.HTTPCheck) {
			h.ExpectBody = "version abc123"
			h.Headers = map[string]string{"X-Revision": "${rollout.revision}"}
		}), true, "status 200"},
		{"wrong body", httpCheck(srv.URL+"/healthz", func(h *spec.HTTPCheck) { h.ExpectBody = "version def" }), false, `the body does not contain "version def"`},
		{"wrong status", httpCheck(srv.URL+"/down", nil), false, "status 503, want 200"},
		{"accepted status", httpCheck(srv.URL+"/down", func(h *spec.HTTPCheck) { h.ExpectStatus = []int{200, 503} }), true, "status 503"},
		{"method", httpCheck(srv.URL+"/post", func(h *spec.HTTPCheck) { h.Method = "POST"; h.Body = "{}" }), true, "status 200"},
		{"no response", httpCheck(closed.URL+"/healthz", nil), false, "no response"},
	}
	h := &HTTP{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := h.Measure(context.Background(), tt.check, reconcile.CheckInput{Vars: vars})
			if err != nil {
				t.Fatal(err)
			}
			if m.Passed != tt.passed || !strings.Contains(m.Detail, tt.detailHas) {
				t.Errorf("measurement = %+v, want passed=%v with %q", m, tt.passed, tt.detailHas)
			}
		})
	}
}

// A check's timeout bounds a request to a hanging service.
func TestHTTPTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	c := httpCheck(srv.URL, func(h *spec.HTTPCheck) { h.Timeout = &spec.Duration{Duration: 50 * time.Millisecond} })
	m, err := (&HTTP{}).Measure(context.Background(), c, reconcile.CheckInput{})
	if err != nil || m.Passed || !strings.Contains(m.Detail, "deadline exceeded") {
		t.Errorf("measurement = %+v, %v", m, err)
	}
}
