package agent_test

import (
	"context"
	"flag"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/jibe-dev/jibe/agent"
	"github.com/jibe-dev/jibe/dashboard"
	"github.com/jibe-dev/jibe/reconcile"
)

// update rewrites the README's screenshots of the dashboard (docs/img).
var update = flag.Bool("update", false, "rewrite the dashboard screenshots under docs/img")

// browserWait bounds each wait for the page to show something.
const browserWait = 30 * time.Second

// newBrowser starts Debian's chromium, headless, and returns a tab's
// context. A machine without it fails the test: scripts/test installs it.
func newBrowser(t testing.TB) context.Context {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatalf("the dashboard's browser tests need Chromium: apt-get install chromium (scripts/test installs it): %v", err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.WindowSize(1280, 800),
		chromedp.Flag("disable-dev-shm-usage", true))
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.Flag("no-sandbox", true)) // Chromium refuses to run as root with its sandbox
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("cannot start %s: %v", path, err)
	}
	return ctx
}

// do runs actions in the tab, failing the test after browserWait with
// what the page's main part shows.
func do(t testing.TB, tab context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, browserWait)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		ctx, cancel := context.WithTimeout(tab, 5*time.Second)
		defer cancel()
		html, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`(document.querySelector("main") || document.body).outerHTML`))
		t.Fatalf("%s: %v; the page shows:\n%s", what, err, html)
	}
}

// get runs an action that returns a value in the tab, failing the test
// after browserWait.
func get[T any](t testing.TB, tab context.Context, what string, action chromedp.Action[T]) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, browserWait)
	defer cancel()
	v, err := chromedp.Run(ctx, action)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

// text returns the text of the first element selector matches, read by
// the page's own script: live updates replace elements, which a node ID
// held by the test would not follow.
func text(t testing.TB, tab context.Context, selector string) string {
	t.Helper()
	js := `(document.querySelector(` + strconv.Quote(selector) + `) || {}).textContent || ""`
	return get(t, tab, "the text of "+selector, chromedp.Evaluate[string](js))
}

// screenshot writes the page's screenshot to docs/img/name under -update.
func screenshot(t testing.TB, tab context.Context, name string) {
	t.Helper()
	if !*update {
		return
	}
	png := get(t, tab, "screenshot "+name, chromedp.FullScreenshot(100))
	path := filepath.Join("..", "docs", "img", name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// The dashboard in a real browser, against the real agent rolling out an
// ECS canary on the AWS emulator: the matrix shows what runs; the
// application's page follows a canary step by step from the event
// stream, without a reload, up to its rollback, whose reason it shows.
func TestDashboardInABrowser(t *testing.T) {
	rig := agent.NewECSRig(t)
	srv := httptest.NewServer(dashboard.New(rig.Agent(), rig.Agent().Handler(nil), dashboard.Options{Clock: rig.Clock()}))
	t.Cleanup(srv.Close)
	tab := newBrowser(t)

	v1 := rig.Push(rig.Files("registry.example.com/shop/web:1.0.0"))
	rig.Settle("v1 rolled out", rig.Ended(v1))
	do(t, tab, "the matrix", chromedp.Navigate(srv.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS(`tr[data-app="shop/shop"] td.s-succeeded`)))
	cell := text(t, tab, `tr[data-app="shop/shop"] td.cell`)
	if !strings.Contains(cell, reconcile.ShortRevision(v1)) {
		t.Errorf("production's cell says %q, want revision %s", cell, reconcile.ShortRevision(v1))
	}
	matrix, closeMatrix := chromedp.NewContext(tab) // a second tab keeps the matrix open
	defer closeMatrix()
	if err := chromedp.Do(matrix); err != nil { // opens the tab for as long as matrix lives
		t.Fatal(err)
	}
	do(t, matrix, "the matrix in a second tab", chromedp.Navigate(srv.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS(`#live[data-state="on"]`)))
	get(t, matrix, "mark the matrix", chromedp.Evaluate[bool](`window.loadedOnce = true`))

	do(t, tab, "the application's page", chromedp.Navigate(srv.URL+"/apps/shop/shop"),
		chromedp.WaitVisible(chromedp.CSS(`#live[data-state="on"]`)))
	get(t, tab, "mark the page", chromedp.Evaluate[bool](`window.loadedOnce = true`))
	broken := "registry.example.com/shop/web:1.1.0"
	rig.BreakImage(broken)
	v2 := rig.Push(rig.Files(broken))
	rig.Settle("v2 at its analysis", atStep(rig, v2, reconcile.StepVerify))
	do(t, tab, "the page follows the canary to its analysis",
		chromedp.WaitVisible(chromedp.CSS(`#env-production[data-state="running"][data-step="verify"]`)))
	screenshot(t, tab, "dashboard-canary.png")

	rig.Settle("v2 analysed", rig.Ended(v2))
	do(t, tab, "the page shows the rollback",
		chromedp.WaitVisible(chromedp.CSS(`#env-production[data-state="rolled-back"] .reason`)))
	reason := text(t, tab, `#env-production .reason`)
	loadedOnce := get(t, tab, "the page's mark", chromedp.Evaluate[bool](`window.loadedOnce === true`))
	if !strings.Contains(reason, "canary 5xx rate") || !strings.Contains(reason, "above max 5") {
		t.Errorf("the rollback's reason reads %q; want the check and its threshold", reason)
	}
	if !loadedOnce {
		t.Error("the page was reloaded: live updates must replace parts of it")
	}
	do(t, matrix, "the matrix shows the rollback",
		chromedp.WaitVisible(chromedp.CSS(`tr[data-app="shop/shop"] td[data-state="rolled-back"]`)))
	if !get(t, matrix, "the matrix's mark", chromedp.Evaluate[bool](`window.loadedOnce === true`)) {
		t.Error("the matrix was reloaded: live updates must replace its rows")
	}
	screenshot(t, tab, "dashboard-rollback.png")
}

// The matrix in a real browser, from the real agent whose rollouts on
// the test cluster left applications in different states
// (agent.NewMatrixAgent): each cell shows what runs and its state, a
// failed one its reason, a pending one what it waits for, a paused canary
// its step. It makes the README's screenshot of the matrix.
func TestDashboardMatrixInABrowser(t *testing.T) {
	a := agent.NewMatrixAgent(t)
	srv := httptest.NewServer(dashboard.New(a, a.Handler(nil), dashboard.Options{}))
	t.Cleanup(srv.Close)
	tab := newBrowser(t)
	do(t, tab, "the matrix", chromedp.Navigate(srv.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS(`#live[data-state="on"]`)))
	for _, c := range []struct{ app, env, state, says string }{
		{"checkout", "staging", "succeeded", "1.4.0"},
		{"checkout", "production", "succeeded", "1.4.0"},
		{"cart", "staging", "rolled-back", "ProgressDeadlineExceeded"},
		{"cart", "production", "pending", "after staging"},
		{"search", "staging", "succeeded", "3.1.0"},
		{"search", "production", "running", "pause"},
	} {
		sel := `tr[data-app="shop/` + c.app + `"] td[data-env="` + c.env + `"]`
		js := `(document.querySelector(` + strconv.Quote(sel) + `) || {dataset: {}}).dataset.state || "absent"`
		if got := get(t, tab, "the state of "+sel, chromedp.Evaluate[string](js)); got != c.state {
			t.Errorf("%s's %s shows %q, want %q", c.app, c.env, got, c.state)
		}
		if got := text(t, tab, sel); !strings.Contains(got, c.says) {
			t.Errorf("%s's %s reads %q, want %q in it", c.app, c.env, strings.Join(strings.Fields(got), " "), c.says)
		}
	}
	screenshot(t, tab, "dashboard-matrix.png")
}

// atStep reports whether production's rollout of revision is at a step
// of kind.
func atStep(rig *agent.ECSRig, revision string, kind reconcile.StepKind) func() bool {
	return func() bool {
		r := rig.Rollout(revision)
		return r != nil && !r.State.Final() && r.Next < len(r.Plan.Steps) && r.Plan.Steps[r.Next].Kind == kind
	}
}
