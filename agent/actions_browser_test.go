package agent_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/jibe-dev/jibe/agent"
	"github.com/jibe-dev/jibe/config"
	"github.com/jibe-dev/jibe/dashboard"
	"github.com/jibe-dev/jibe/reconcile"
)

// The application's page shows a write token the buttons of the actions
// that apply (a canary paused in production: abort and promote), asks to
// confirm, posts the action from the page's script and shows the agent's
// answer. A read token sees no button, and a cookie-signed action that
// does not come from the page's script is refused (CSRF).
func TestDashboardActionsInABrowser(t *testing.T) {
	a := agent.NewPausedCanaryAgent(t)
	const write, read = "w-0123456789abcdef0123456789abcdef", "r-0123456789abcdef0123456789abcdef"
	t.Setenv("JIBE_TEST_DASH_WRITE", write)
	t.Setenv("JIBE_TEST_DASH_READ", read)
	cfg := *a.Config()
	cfg.Server.Tokens = []config.APIToken{
		{Name: "oncall", Scope: config.ScopeWrite, Secret: config.SecretRef{Env: "JIBE_TEST_DASH_WRITE"}},
		{Name: "viewer", Scope: config.ScopeRead, Secret: config.SecretRef{Env: "JIBE_TEST_DASH_READ"}},
	}
	a.SetConfig(&cfg)
	srv := httptest.NewServer(dashboard.New(a, a.Handler(nil), dashboard.Options{
		Require: func(h http.Handler) http.Handler { return a.Require(agent.ScopeRead, h) },
		Write:   func(h http.Handler) http.Handler { return a.Require(agent.ScopeWrite, h) },
	}))
	t.Cleanup(srv.Close)

	if page := fetch(t, http.MethodGet, srv.URL+"/apps/shop/shop", read, nil); !strings.HasPrefix(page, "200") || strings.Contains(page, "data-action=") {
		t.Errorf("a read token's page shows action buttons, or no page:\n%s", page)
	}
	promote := srv.URL + "/api/v1/applications/shop/shop/environments/production/promote"
	for name, header := range map[string]http.Header{
		"no header":  {},
		"cross-site": {agent.ActionHeader: {"1"}, "Sec-Fetch-Site": {"cross-site"}},
		"same-site":  {agent.ActionHeader: {"1"}, "Sec-Fetch-Site": {"same-site"}},
	} {
		if got := fetch(t, http.MethodPost, promote, write, header); !strings.Contains(got, "403") {
			t.Errorf("a cookie-signed action with %s was not refused: %s", name, got)
		}
	}

	tab := newBrowser(t)
	do(t, tab, "sign in with a write token", chromedp.Navigate(srv.URL+"/login?token="+write+"&next=/apps/shop/shop"),
		chromedp.WaitVisible(chromedp.CSS(`#env-production form.actions button[data-action="promote"]`)))
	if got := text(t, tab, `#env-production form.actions`); !strings.Contains(got, "Abort") || strings.Contains(got, "Retry") {
		t.Errorf("production's actions read %q; want Abort and Promote", strings.Join(strings.Fields(got), " "))
	}
	get(t, tab, "accept confirmations", chromedp.Evaluate[bool](`window.asked = ""; window.confirm = function (q) { window.asked = q; return true; }; true`))
	do(t, tab, "promote", chromedp.Click(chromedp.CSS(`#env-production button[data-action="promote"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#action-result:not(:empty)`)))
	if got := text(t, tab, "#action-result"); !strings.Contains(got, "promoting the rollout of") || !strings.Contains(got, "1 pause(s) skipped") {
		t.Errorf("the page shows %q after promote", got)
	}
	if asked := get(t, tab, "the confirmation", chromedp.Evaluate[string](`window.asked`)); !strings.Contains(asked, "Skip the pauses") {
		t.Errorf("the page asked %q before promoting", asked)
	}
	h, err := a.History(reconcile.AppID{Source: "shop", Name: "shop"}, "production", "", 5)
	if err != nil || len(h.Actions) == 0 || h.Actions[0].Action != "promote" || h.Actions[0].By != "oncall" {
		t.Errorf("the history's actions = %+v, %v; want a promote by oncall", h.Actions, err)
	}
}

// fetch sends method to url with the token in the dashboard's cookie and
// header, and returns "<status> <body>".
func fetch(t *testing.T, method, url, token string, header http.Header) string {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.AddCookie(&http.Cookie{Name: agent.TokenCookie, Value: token})
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.Status + " " + string(body)
}
