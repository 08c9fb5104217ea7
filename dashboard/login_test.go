package dashboard

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/jibe-dev/jibe/agent"
	"github.com/jibe-dev/jibe/config"
	"github.com/jibe-dev/jibe/reconcile"
)

const readToken = "0123456789abcdef0123456789abcdef-read"

// guarded returns the dashboard of a real agent whose configuration has
// one read token, behind the agent's own Require, as jibe agent wires it.
func guarded(t *testing.T) *httptest.Server {
	t.Helper()
	t.Setenv("JIBE_TEST_READ_TOKEN", readToken)
	cfg, err := config.Parse(t.TempDir()+"/agent.yaml", []byte(`apiVersion: jibe.dev/v1alpha1
kind: AgentConfig
server:
  tokens:
    - {name: team, scope: read, secret: {env: JIBE_TEST_READ_TOKEN}}
sources:
  - name: shop
    dir: {path: .}
    allow: {accounts: [main]}
aws:
  accounts:
    - {name: main, accountID: "123456789012", region: eu-west-1}
`))
	if err != nil {
		t.Fatal(err)
	}
	j, err := reconcile.OpenJournal(t.TempDir()+"/journal.db", reconcile.JournalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	a := agent.New(agent.Options{Config: cfg, Journal: j})
	srv := httptest.NewServer(New(a, a.Handler(nil), Options{Require: func(h http.Handler) http.Handler { return a.Require(agent.ScopeRead, h) }}))
	t.Cleanup(srv.Close)
	return srv
}

// fetch GETs path without following redirects.
func fetch(t *testing.T, srv *httptest.Server, path string, header ...string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if strings.Contains(string(body), readToken) {
		t.Errorf("GET %s echoes the token", path)
	}
	return res, string(body)
}

// With server.tokens, pages ask for a token; a valid one, sent once as
// ?token= or by the form's script as a bearer header, is kept in an
// HttpOnly, SameSite=Strict cookie that pages and the API then accept.
func TestSignIn(t *testing.T) {
	srv := guarded(t)
	res, body := fetch(t, srv, "/?state=failed")
	if res.StatusCode != http.StatusUnauthorized || !strings.Contains(body, `id="login"`) || !strings.Contains(body, `value="/?state=failed"`) {
		t.Fatalf("GET / without a token: %d\n%s", res.StatusCode, body)
	}
	res, body = fetch(t, srv, "/login?token=wrong&next=/")
	if res.StatusCode != http.StatusUnauthorized || len(res.Cookies()) != 0 || !strings.Contains(body, "not a token of server.tokens") {
		t.Errorf("a wrong token: %d, cookies %v\n%s", res.StatusCode, res.Cookies(), body)
	}
	res, _ = fetch(t, srv, "/login?token="+readToken+"&next=/apps/shop/web")
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/apps/shop/web" {
		t.Fatalf("?token=: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	c := res.Cookies()
	if len(c) != 1 || c[0].Name != agent.TokenCookie || !c[0].HttpOnly || c[0].SameSite != http.SameSiteStrictMode || c[0].Path != "/" {
		t.Fatalf("cookies %+v", c)
	}
	cookie := c[0].Name + "=" + c[0].Value
	if res, body = fetch(t, srv, "/", "Cookie", cookie); res.StatusCode != http.StatusOK || !strings.Contains(body, "No application yet") {
		t.Errorf("GET / with the cookie: %d\n%s", res.StatusCode, body)
	}
	if res, _ = fetch(t, srv, "/api/v1/applications", "Cookie", cookie); res.StatusCode != http.StatusOK {
		t.Errorf("the API with the cookie: %d", res.StatusCode)
	}
	res, _ = fetch(t, srv, "/login", "Authorization", "Bearer "+readToken)
	if res.StatusCode != http.StatusNoContent || len(res.Cookies()) != 1 {
		t.Errorf("the form's script: %d, cookies %v", res.StatusCode, res.Cookies())
	}
	if res, _ = fetch(t, srv, "/login?token="+readToken+"&next=//evil.example/"); res.Header.Get("Location") != "/" {
		t.Errorf("next=//evil.example/ redirects to %q", res.Header.Get("Location"))
	}
	if res, _ = fetch(t, srv, "/assets/style.css"); res.StatusCode != http.StatusOK {
		t.Errorf("assets need no token: %d", res.StatusCode)
	}
	if res, _ = fetch(t, srv, "/logout", "Cookie", cookie); len(res.Cookies()) != 1 || res.Cookies()[0].MaxAge >= 0 {
		t.Errorf("logout: cookies %+v", res.Cookies())
	}
}
