// Package promemu is a stand-in Prometheus: it serves the instant query
// endpoint of the Prometheus HTTP API (/api/v1/query, GET or POST form)
// with results that tests and demos set per query, and records the
// queries it received.
//
//	prom := promemu.New()
//	srv := httptest.NewServer(prom)
//	prom.Set(`sum(rate(http_errors_total[5m]))`, promemu.Scalar(0.01))
//
// A query without a result set answers an empty vector, as Prometheus does
// for a metric that has no series.
package promemu

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Server is the stand-in Prometheus. It is an http.Handler; the zero
// value is not usable, call New.
type Server struct {
	mu       sync.Mutex
	results  map[string]Result
	token    string
	received []Query
	now      func() time.Time
}

// Result is what a query answers: a scalar, a vector of samples or an
// error, with optional warnings.
type Result struct {
	scalar   *float64
	vector   []Sample
	err      *apiError
	Warnings []string
}

// Sample is one series of a vector result.
type Sample struct {
	// Labels identify the series, e.g. {"job": "api"}.
	Labels map[string]string
	// Value is the sample's value.
	Value float64
}

type apiError struct {
	status    int
	errorType string
	message   string
}

// Scalar returns a scalar result.
func Scalar(v float64) Result { return Result{scalar: &v} }

// Vector returns an instant vector result; no samples is an empty vector.
func Vector(samples ...Sample) Result { return Result{vector: samples} }

// Error returns an API error answered with the HTTP status, e.g.
// Error(400, "bad_data", "parse error at char 5: ...").
func Error(status int, errorType, message string) Result {
	return Result{err: &apiError{status: status, errorType: errorType, message: message}}
}

// Query is a query the server received.
type Query struct {
	// Method is GET or POST.
	Method string
	// Query is the PromQL text.
	Query string
	// Time is the evaluation time the client asked for; zero when absent.
	Time time.Time
	// Header holds the request's headers, e.g. Authorization.
	Header http.Header
}

// New returns a server with no results set, evaluating queries without a
// time parameter at the wall clock's now.
func New() *Server {
	return &Server{results: map[string]Result{}, now: time.Now}
}

// Set makes query answer r until it is set again.
func (s *Server) Set(query string, r Result) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.results[query] = r
}

// RequireBearerToken makes the server refuse (401) requests without
// "Authorization: Bearer token"; an empty token turns the check off.
func (s *Server) RequireBearerToken(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.token = token
}

// SetClock sets what "now" is for queries without a time parameter,
// e.g. a demo's fake clock.
func (s *Server) SetClock(now func() time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = now
}

// Queries returns the queries received so far, oldest first.
func (s *Server) Queries() []Query {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Query, len(s.received))
	for i, q := range s.received {
		q.Header = q.Header.Clone()
		out[i] = q
	}
	return out
}

// ServeHTTP serves /api/v1/query.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/api/v1/query" {
		writeJSON(w, http.StatusNotFound, errorBody("bad_data", "promemu serves only /api/v1/query"))
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		writeJSON(w, http.StatusMethodNotAllowed, errorBody("bad_data", "use GET or POST"))
		return
	}
	if err := r.ParseForm(); err != nil {
		writeJSON(w, http.StatusBadRequest, errorBody("bad_data", err.Error()))
		return
	}
	q, err := s.record(r)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, errorBody("bad_data", err.Error()))
		return
	}
	s.answer(w, r, q)
}

// record parses and logs a query.
func (s *Server) record(r *http.Request) (Query, error) {
	q := Query{Method: r.Method, Query: r.Form.Get("query"), Header: r.Header.Clone()}
	if ts := r.Form.Get("time"); ts != "" {
		t, err := parseTime(ts)
		if err != nil {
			return q, err
		}
		q.Time = t
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.received = append(s.received, q)
	return q, nil
}

func (s *Server) answer(w http.ResponseWriter, r *http.Request, q Query) {
	s.mu.Lock()
	token, res, now := s.token, s.results[q.Query], s.now
	s.mu.Unlock()
	switch {
	case token != "" && r.Header.Get("Authorization") != "Bearer "+token:
		writeJSON(w, http.StatusUnauthorized, errorBody("unauthorized", "missing or wrong bearer token"))
	case q.Query == "":
		writeJSON(w, http.StatusBadRequest, errorBody("bad_data", "invalid parameter \"query\": empty query"))
	case res.err != nil:
		body := errorBody(res.err.errorType, res.err.message)
		body["warnings"] = res.Warnings
		writeJSON(w, res.err.status, body)
	default:
		at := q.Time
		if at.IsZero() {
			at = now()
		}
		writeJSON(w, http.StatusOK, successBody(res, at))
	}
}

func successBody(res Result, at time.Time) map[string]any {
	ts := float64(at.UnixMilli()) / 1000
	var data map[string]any
	if res.scalar != nil {
		data = map[string]any{"resultType": "scalar", "result": []any{ts, formatValue(*res.scalar)}}
	} else {
		series := make([]any, 0, len(res.vector))
		for _, smp := range res.vector {
			labels := maps.Clone(smp.Labels)
			if labels == nil {
				labels = map[string]string{}
			}
			series = append(series, map[string]any{"metric": labels, "value": []any{ts, formatValue(smp.Value)}})
		}
		data = map[string]any{"resultType": "vector", "result": series}
	}
	body := map[string]any{"status": "success", "data": data}
	if len(res.Warnings) > 0 {
		body["warnings"] = res.Warnings
	}
	return body
}

func errorBody(errorType, message string) map[string]any {
	return map[string]any{"status": "error", "errorType": errorType, "error": message}
}

// formatValue writes a sample value as Prometheus does: a string, with
// NaN and ±Inf spelled out.
func formatValue(v float64) string {
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// parseTime parses a Unix timestamp with optional fraction, or RFC 3339.
func parseTime(s string) (time.Time, error) {
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		sec := int64(f)
		return time.Unix(sec, int64((f-float64(sec))*1e9)).Round(time.Millisecond).UTC(), nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("invalid parameter \"time\": cannot parse %q to a valid timestamp", s)
	}
	return t, nil
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}
