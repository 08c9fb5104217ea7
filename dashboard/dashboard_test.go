package dashboard

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jibe-dev/jibe/agent"
)

// twoShops are two sources with an application named web each, and an api.
func twoShops() []agent.AppView {
	at := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	return []agent.AppView{
		{ID: "shop/api", Name: "api", Source: "shop", Folder: "apps/api", Revision: "b2b2b2b2b2", Environments: []agent.EnvView{
			{Name: "staging", Revision: "b2b2b2b2b2", State: "rolled-back", Reason: "web did not become healthy <in 5m>", Updated: at}}},
		{ID: "ops/web", Name: "web", Source: "ops", Folder: "web", Revision: "c3", Environments: []agent.EnvView{
			{Name: "staging", Revision: "c3", State: "succeeded", Updated: at}}},
		{ID: "shop/web", Name: "web", Source: "shop", Folder: "apps/web", Revision: "a1", Environments: []agent.EnvView{
			{Name: "staging", Revision: "a1", State: "succeeded", Updated: at},
			{Name: "production", Revision: "a1", State: "running", Step: "await-approval", Waiting: "an approval by @acme/sre", Updated: at}}},
	}
}

func serve(t *testing.T, views []agent.AppView, path string) (*http.Response, string) {
	t.Helper()
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "api "+r.URL.Path) })
	d := New(ViewsFunc(func() []agent.AppView { return views }), api, Options{})
	rec := httptest.NewRecorder()
	d.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	res := rec.Result()
	body, _ := io.ReadAll(res.Body)
	return res, string(body)
}

func TestMatrixPage(t *testing.T) {
	res, body := serve(t, twoShops(), "/")
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Security-Policy") == "" {
		t.Fatalf("status %d, headers %v", res.StatusCode, res.Header)
	}
	for _, want := range []string{
		`data-cols="staging,production"`, `href="/apps/shop/web"`, `href="/apps/ops/web"`,
		"waiting · await-approval", "an approval by @acme/sre", "rolled back",
		"web did not become healthy &lt;in 5m&gt;", "3 of 3 applications", `src="/assets/live.js"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the matrix lacks %q:\n%s", want, body)
		}
	}
	_, body = serve(t, twoShops(), "/?source=ops")
	if !strings.Contains(body, "1 of 3 applications") || strings.Contains(body, `href="/apps/shop/web"`) {
		t.Errorf("filtered by source ops:\n%s", body)
	}
}

func TestAppPages(t *testing.T) {
	res, body := serve(t, twoShops(), "/apps/shop/web")
	if res.StatusCode != http.StatusOK || !strings.Contains(body, `data-app="shop/web"`) || !strings.Contains(body, "Waiting for an approval by @acme/sre") {
		t.Errorf("/apps/shop/web: %d\n%s", res.StatusCode, body)
	}
	res, _ = serve(t, twoShops(), "/apps/api")
	if res.StatusCode != http.StatusFound || res.Header.Get("Location") != "/apps/shop/api" {
		t.Errorf("/apps/api: %d to %q, want a redirect to its one source", res.StatusCode, res.Header.Get("Location"))
	}
	res, body = serve(t, twoShops(), "/apps/web")
	if res.StatusCode != http.StatusOK || !strings.Contains(body, `href="/apps/ops/web"`) || !strings.Contains(body, `href="/apps/shop/web"`) {
		t.Errorf("/apps/web: %d, want a choice of both sources:\n%s", res.StatusCode, body)
	}
	for _, path := range []string{"/apps/nope", "/apps/shop/nope"} {
		if res, _ := serve(t, twoShops(), path); res.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", path, res.StatusCode)
		}
	}
}

func TestFragments(t *testing.T) {
	_, body := serve(t, twoShops(), "/apps/shop/web?fragment=row&cols=staging,production")
	if !strings.HasPrefix(body, `<tr id="app:shop/web"`) || strings.Count(body, "<td") != 2 {
		t.Errorf("row fragment:\n%s", body)
	}
	_, body = serve(t, twoShops(), "/apps/shop/web?fragment=main")
	if strings.Contains(body, "<html") || !strings.Contains(body, `id="env-production"`) {
		t.Errorf("main fragment:\n%s", body)
	}
}

func TestAssetsAndOtherRoutes(t *testing.T) {
	res, body := serve(t, nil, "/assets/live.js")
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "EventSource") {
		t.Errorf("live.js: %d", res.StatusCode)
	}
	if _, body = serve(t, nil, "/api/v1/applications"); body != "api /api/v1/applications" {
		t.Errorf("the API is not passed on: %q", body)
	}
	if _, body = serve(t, nil, "/"); !strings.Contains(body, "No application yet") {
		t.Errorf("empty matrix:\n%s", body)
	}
}
