package agent_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/jibe-dev/jibe/agent"
	"github.com/jibe-dev/jibe/dashboard"
)

// BenchmarkDashboardMatrix measures GET /, the version matrix, from the
// real agent holding 1,000 applications of 3 environments (production's
// rollout running): the agent's views and the page rendered, in one
// request.
//
//	go test ./agent -run '^$' -bench DashboardMatrix -benchmem
func BenchmarkDashboardMatrix(b *testing.B) {
	a := agent.NewBenchAgent(b, 1000)
	pages := dashboard.New(a, a.Handler(nil), dashboard.Options{})
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	rec := httptest.NewRecorder()
	pages.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "1000 of 1000 applications") {
		b.Fatalf("GET /: %d\n%.2000s", rec.Code, rec.Body.String())
	}
	b.ReportMetric(float64(rec.Body.Len())/1024, "KiB/page")
	for b.Loop() {
		pages.ServeHTTP(httptest.NewRecorder(), req)
	}
}
