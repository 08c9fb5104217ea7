package dashboard

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jibe-dev/jibe/agent"
	"github.com/jibe-dev/jibe/reconcile"
)

var at = time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)

func ptr[T any](v T) *T { return &v }

func version1(rev, tag string) *agent.VersionView {
	return &agent.VersionView{Revision: rev, Artifacts: []agent.ArtifactView{{Name: "web", Kind: "image", Ref: "registry/web:" + tag, Version: tag}}}
}

// twoShops are two sources with an application named web each, and an api.
func twoShops() []agent.AppView {
	return []agent.AppView{
		{ID: "shop/api", Name: "api", Source: "shop", Folder: "apps/api", Revision: "b2b2b2b2b2", Environments: []agent.EnvView{
			{Name: "staging", Revision: "a0a0a0a0a0", State: "rolled-back", Reason: "web did not become healthy <in 5m>", Updated: at,
				Running: version1("a0a0a0a0a0", "0.9"), Wanted: version1("b2b2b2b2b2", "1.0")},
			{Name: "production", State: "pending", PendingOn: "staging", Wanted: version1("b2b2b2b2b2", "1.0")}}},
		{ID: "ops/web", Name: "web", Source: "ops", Folder: "web", Revision: "c3", Environments: []agent.EnvView{
			{Name: "staging", Revision: "c3", State: "succeeded", Updated: at, Drift: []string{"apps/v1 Deployment web"}}}},
		{ID: "shop/web", Name: "web", Source: "shop", Folder: "apps/web", Revision: "a1", Environments: []agent.EnvView{
			{Name: "staging", Revision: "a1", State: "succeeded", Updated: at, Running: version1("a1", "2.0"),
				Targets: []agent.TargetView{{Name: "web", Platform: "ecs", Instances: &reconcile.Instances{Desired: 3, Running: 3, Healthy: 3}}}},
			{Name: "production", Revision: "a0", State: "running", Step: "await-approval", Waiting: "an approval by @acme/sre", Updated: at,
				Running: version1("a0", "1.9"), Wanted: version1("a1", "2.0"),
				Rollout: &agent.RolloutSummary{State: "running", Step: 0, Steps: 4}}}},
	}
}

func execute(t *testing.T, name string, data any) string {
	t.Helper()
	var buf bytes.Buffer
	if err := parseTemplates().ExecuteTemplate(&buf, name, data); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func TestMatrixPage(t *testing.T) {
	body := execute(t, "matrix", page{Title: "Applications", EventsURL: "/api/v1/events", Now: at, Body: buildMatrix(twoShops(), filter{})})
	for _, want := range []string{
		`data-cols="staging,production"`, `href="/apps/shop/web"`, `href="/apps/ops/web"`,
		"waiting for approval · step 1/4 · await-approval", "an approval by @acme/sre", "rolled back",
		"web did not become healthy &lt;in 5m&gt;", "3 of 3 applications", `src="/assets/live.js"`,
		"1.9 <code>a0</code>", "→ 2.0 a1", "3/3", "after staging", `data-events="/api/v1/events"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the matrix lacks %q:\n%s", want, body)
		}
	}
}

func TestCellOf(t *testing.T) {
	v := twoShops()
	for _, tc := range []struct {
		e                               agent.EnvView
		state                           State
		running, wanted, progress, note string
		instances                       string
	}{
		{v[0].Environments[0], StateRolledBack, "a0a0a0a0a0", "b2b2b2b2b2", "", "web did not become healthy <in 5m>", ""},
		{v[0].Environments[1], StatePending, "", "b2b2b2b2b2", "", "after staging", ""},
		{v[2].Environments[0], StateSucceeded, "a1", "", "", "", "3/3"},
		{v[2].Environments[1], StateWaiting, "a0", "a1", "step 1/4 · await-approval", "an approval by @acme/sre", ""},
		{agent.EnvView{State: "running", Step: "shift-traffic", Rollout: &agent.RolloutSummary{State: "running", Step: 2, Steps: 5, Weight: ptr(20.0)}},
			StateRunning, "", "", "step 3/5 · shift-traffic · 20%", "", ""},
	} {
		c := cellOf(&tc.e)
		got := []string{string(c.State), c.Running.Revision, c.Wanted.Revision, c.Progress, c.Note, c.Instances}
		want := []string{string(tc.state), tc.running, tc.wanted, tc.progress, tc.note, tc.instances}
		if !slices.Equal(got, want) {
			t.Errorf("cellOf(%s) = %q, want %q", tc.e.Name, got, want)
		}
	}
}

func TestNamed(t *testing.T) {
	if got := named(twoShops(), "web"); len(got) != 2 {
		t.Errorf("named web: %d applications, want both sources'", len(got))
	}
	if got := named(twoShops(), "api"); len(got) != 1 || got[0].Source != "shop" {
		t.Errorf("named api: %+v", got)
	}
}

func TestLocalPath(t *testing.T) {
	for in, want := range map[string]string{
		"/apps/shop/web": "/apps/shop/web", "/?state=failed": "/?state=failed", "": "/",
		"//evil.example/": "/", "https://evil.example/": "/", "/\\evil.example": "/", "/a\r\nSet-Cookie: x": "/",
	} {
		if got := localPath(in); got != want {
			t.Errorf("localPath(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestAppPage(t *testing.T) {
	v := twoShops()[2]
	r := &agent.RolloutView{
		RolloutSummary: agent.RolloutSummary{Revision: "a1", State: "running", Strategy: "canary", Mode: "canary", Step: 2, Steps: 4, Started: at, Updated: at.Add(3 * time.Minute)},
		PullRequest:    7,
		Steps: []agent.StepView{{Index: 0, Kind: "apply", State: "done"}, {Index: 1, Kind: "shift-traffic", Weight: ptr(20.0), State: "done"},
			{Index: 2, Kind: "verify", Check: "5xx rate", State: "current"}, {Index: 3, Kind: "shift-traffic", Weight: ptr(100.0), State: "pending"}},
		Traffic:  []agent.WeightPoint{{At: at.Add(time.Minute), Weight: 20}},
		Analyses: []agent.AnalysisView{{Step: 2, Check: "5xx rate", Max: ptr(5.0), Threshold: "max 5", Measurements: []reconcile.Measurement{{At: at.Add(2 * time.Minute), Value: 1, Passed: true}}}},
	}
	p := appPage{AppView: v, Wanted: version{Revision: "a1", Short: "a1"}, Repo: RepoLinks{Web: "https://github.com/acme/shop"}}
	for i := range v.Environments {
		s := envSection{cell: cellOf(&v.Environments[i]), View: v.Environments[i]}
		if s.Env == "production" {
			s.Rollout, s.Charts = r, chartsOf(r, at.Add(3*time.Minute))
			s.History = []agent.HistoryEntry{{Revision: "a0", State: "succeeded", Mode: "rolling", Started: at, Duration: 90, ApprovedBy: "approved by sam", PullRequest: 6}}
		}
		p.Envs = append(p.Envs, s)
	}
	body := execute(t, "app", page{Title: "web", Now: at, Body: p})
	for _, want := range []string{
		`id="appmain" data-app="shop/web"`, `data-state="waiting"`, `<li class="current" data-kind="verify"`,
		"shift-traffic 20%", `href="https://github.com/acme/shop/commit/a1"`, `href="https://github.com/acme/shop/pull/7"`,
		"Traffic to the new version", "max 5", `<polyline class="weight"`, `class="pass"`, "approved by sam", "1m30s",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if t.Failed() {
		t.Log(body)
	}
}

func TestAnalysisChart(t *testing.T) {
	a := agent.AnalysisView{Check: "5xx", Max: ptr(5.0), Measurements: []reconcile.Measurement{
		{At: at, Value: 0, Passed: true}, {At: at.Add(30 * time.Second), Value: 10, Passed: false}, {At: at.Add(time.Minute), NoData: true}}}
	c := analysisChart(a, at, at.Add(time.Minute))
	if len(c.Thresholds) != 1 || c.Thresholds[0].Label != "max 5" {
		t.Fatalf("thresholds %+v", c.Thresholds)
	}
	classes := []string{c.Dots[0].Class, c.Dots[1].Class, c.Dots[2].Class}
	if !slices.Equal(classes, []string{"pass", "fail", "nodata"}) {
		t.Errorf("dots %q", classes)
	}
	// 0..11 (10 and 10% headroom) over the plot's height: 0 at the bottom,
	// the threshold and the failed reading above it, in that order.
	if c.Dots[0].Y != plotBottom || !(c.Dots[1].Y < c.Thresholds[0].Y && c.Thresholds[0].Y < plotBottom) {
		t.Errorf("y of 0: %v, of 10: %v, of the threshold: %v", c.Dots[0].Y, c.Dots[1].Y, c.Thresholds[0].Y)
	}
	if c.Dots[0].X != plotLeft || c.Dots[2].X != plotRight || c.Line != "48,146 339,24.2" {
		t.Errorf("x %v..%v, line %q (no data draws no line)", c.Dots[0].X, c.Dots[2].X, c.Line)
	}
}

func TestTrafficChart(t *testing.T) {
	c := trafficChart([]agent.WeightPoint{{At: at.Add(time.Minute), Weight: 20}, {At: at.Add(3 * time.Minute), Weight: 100}}, at, at.Add(4*time.Minute))
	want := "48,146 193.5,146 193.5,119.2 484.5,119.2 484.5,12 630,12"
	if c.Line != want || c.Note != "now 100%" {
		t.Errorf("line %q, note %q; want %q", c.Line, c.Note, want)
	}
}

// A rollout's charts share one time axis, over the readings, up to now
// while it runs; times outside the readings (the rollout's start, by
// another clock) do not stretch it.
func TestChartsShareTheReadingsAxis(t *testing.T) {
	r := &agent.RolloutView{RolloutSummary: agent.RolloutSummary{State: "running", Started: at.Add(-72 * time.Hour)},
		Traffic:  []agent.WeightPoint{{At: at, Weight: 20}},
		Analyses: []agent.AnalysisView{{Check: "5xx", Measurements: []reconcile.Measurement{{At: at.Add(time.Minute), Value: 1, Passed: true}}}}}
	charts := chartsOf(r, at.Add(2*time.Minute))
	if len(charts) != 2 {
		t.Fatalf("%d charts, want traffic and the analysis", len(charts))
	}
	for _, c := range charts {
		if first, last := c.XTicks[0].Label, c.XTicks[4].Label; first != "12:00:00" || last != "12:02:00" {
			t.Errorf("%s: axis %s..%s, want 12:00:00..12:02:00", c.Title, first, last)
		}
	}
	if x := charts[1].Dots[0].X; x != (plotLeft+plotRight)/2 {
		t.Errorf("the reading at 12:01 is at x %v, want the middle", x)
	}
	r.State = "succeeded"
	if last := chartsOf(r, at.Add(time.Hour))[0].XTicks[4].Label; last != "12:01:00" {
		t.Errorf("an ended rollout's axis ends at %s, want its last reading", last)
	}
}
