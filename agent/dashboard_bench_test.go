package agent_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

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

// navTiming is what a page's Navigation Timing entry says of its load, in
// milliseconds from the navigation's start, and its HTML's size.
type navTiming struct {
	// Response is when the last byte of the HTML arrived (the agent's
	// rendering included), Interactive when it was parsed.
	Response         float64 `json:"response"`
	Interactive      float64 `json:"interactive"`
	DOMContentLoaded float64 `json:"dcl"`
	Load             float64 `json:"load"`
	FirstPaint       float64 `json:"fcp"`
	Bytes            float64 `json:"bytes"`
}

// navTimingJS waits for the page's load event to end and returns its
// navTiming.
const navTimingJS = `new Promise(done => {
  const read = () => {
    const n = performance.getEntriesByType("navigation")[0];
    if (!n || n.loadEventEnd === 0) { setTimeout(read, 5); return; }
    const fcp = performance.getEntriesByName("first-contentful-paint")[0];
    done({response: n.responseEnd, interactive: n.domInteractive, dcl: n.domContentLoadedEventEnd, load: n.loadEventEnd, fcp: fcp ? fcp.startTime : 0, bytes: n.decodedBodySize});
  };
  read();
})`

// BenchmarkDashboardMatrixInBrowser loads the version matrix of the real
// agent holding 1,000 applications of 3 environments (as
// BenchmarkDashboardMatrix) in Debian's chromium, headless, and reports
// what the browser's Navigation Timing API measures from the navigation's
// start: the HTML received (the agent's rendering included), parsed
// (interactive), DOMContentLoaded (its deferred script run), load, and
// the first contentful paint, averaged over the loads that follow a first
// one (stylesheet and script cached, as the agent lets browsers), and
// that first load's time apart.
//
//	go test ./agent -run '^$' -bench DashboardMatrixInBrowser -benchtime 10x
func BenchmarkDashboardMatrixInBrowser(b *testing.B) {
	a := agent.NewBenchAgent(b, 1000)
	srv := httptest.NewServer(dashboard.New(a, a.Handler(nil), dashboard.Options{}))
	b.Cleanup(srv.Close)
	tab := newBrowser(b)
	load := func() navTiming {
		do(b, tab, "load the matrix", chromedp.Navigate(srv.URL+"/"))
		return get(b, tab, "the matrix's navigation timing", chromedp.Evaluate[navTiming](navTimingJS, chromedp.EvalAwaitPromise))
	}
	first := load()
	if n := text(b, tab, "#count"); n != "1000 of 1000 applications" {
		b.Fatalf("the matrix counts %q, want 1000 of 1000 applications", n)
	}
	var sum navTiming
	for b.Loop() {
		t := load()
		sum.Response += t.Response
		sum.Interactive += t.Interactive
		sum.DOMContentLoaded += t.DOMContentLoaded
		sum.Load += t.Load
		sum.FirstPaint += t.FirstPaint
	}
	n := float64(b.N)
	b.ReportMetric(sum.Response/n, "ms-response/op")
	b.ReportMetric(sum.Interactive/n, "ms-interactive/op")
	b.ReportMetric(sum.DOMContentLoaded/n, "ms-DOMContentLoaded/op")
	b.ReportMetric(sum.Load/n, "ms-load/op")
	b.ReportMetric(sum.FirstPaint/n, "ms-first-paint/op")
	b.ReportMetric(first.Load, "ms-first-load")
	b.ReportMetric(first.Bytes/1024, "KiB/page")
	b.Logf("first load: DOMContentLoaded %.0f ms, load %.0f ms, first paint %.0f ms, %.0f KiB of HTML",
		first.DOMContentLoaded, first.Load, first.FirstPaint, first.Bytes/1024)
}
