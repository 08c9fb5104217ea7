package agent

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/jibe-dev/jibe/config"
	"github.com/jibe-dev/jibe/providers/checks"
	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/spec"
)

// A verify check of a loopback service the source may not reach (its
// allow lists no checkHosts) is refused before the rollout: the service
// gets no request, nothing is applied and the staging status fails naming
// the check and allow.checkHosts. Once an operator lists the address, the
// rollout verifies and is promoted.
func TestE2ECheckHostRefused(t *testing.T) {
	var hits atomic.Int32
	internal := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		_, _ = w.Write([]byte("secret-token-123"))
	}))
	t.Cleanup(internal.Close)
	e := newE2EWith(t, func(_ *harness, o *Options) { o.Checks = checks.New(checks.Options{}) })
	allow := config.Tenancy{Clusters: []string{"test"}, Namespaces: []string{"*"}}
	e.withAllow(allow)
	verify := "      verify:\n        - name: probe\n          http: {url: " + internal.URL + "/admin, method: DELETE, expectBody: secret}"
	files := e.files("registry.example.com/shop/web:1.0.0", rolling)
	files["apps/shop/jibe.yaml"] = strings.Replace(files["apps/shop/jibe.yaml"], "    - name: production", verify+"\n    - name: production", 1)
	v1 := e.push(files)

	s := e.statuses(v1)["jibe/shop/staging"]
	if want := "refused: environment staging, check probe (verify[0]): loopback address"; s.State != "failure" || !strings.HasPrefix(s.Description, want) || !strings.Contains(s.Description, "allow.checkHosts") {
		t.Errorf("staging status = %s %q; want a failure starting %q and naming allow.checkHosts", s.State, s.Description, want)
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the internal service got %d requests; want none", n)
	}
	if got := e.image(e.staging, "web"); !strings.Contains(got, "not found") {
		t.Errorf("staging runs %s; want nothing applied", got)
	}
	if cur, err := e.journal.Current(shopApp, "staging"); err == nil {
		t.Errorf("staging has a rollout of %s; want none", reconcile.ShortRevision(cur.Revision))
	}

	allow.CheckHosts = []string{"127.0.0.1"}
	e.withAllow(allow)
	e.settle("v1 in production once allowed", e.final("production", v1))
	if s := e.statuses(v1)["jibe/shop/staging"]; s.State != "success" {
		t.Errorf("staging status once allowed = %s %q", s.State, s.Description)
	}
	if hits.Load() == 0 {
		t.Error("the allowed check was never requested")
	}
}

// Canary analysis checks are checked like verify checks, with the
// ${rollout.*} placeholders known before the rollout filled in; a host
// that holds another one cannot be checked and is refused.
func TestCheckHTTPHostsOfCanaryAnalysis(t *testing.T) {
	hosts := (&config.Source{Name: "shop", Allow: config.Tenancy{CheckHosts: []string{"*.preview.acme.com", "api.acme.com"}}}).CheckHostPolicy()
	env := func(url string) *spec.Environment {
		return &spec.Environment{Name: "production", Strategy: &spec.Strategy{Canary: &spec.Canary{Steps: []spec.CanaryStep{
			{Pause: &spec.Pause{}},
			{Analysis: &spec.Analysis{Checks: []spec.Check{{Name: "errors", HTTP: &spec.HTTPCheck{URL: url}}}}},
		}}}}
	}
	const rev = "0123456789abcdef0123456789abcdef01234567"
	tests := []struct{ url, want string }{
		{"https://api.acme.com/v/${rollout.version}", ""},
		{"https://${rollout.shortRevision}.preview.acme.com/health", ""},
		{"https://${rollout.version}.preview.acme.com/health", "check errors (strategy.canary.steps[1].analysis.checks[0]): the URL's host holds a placeholder"},
		{"http://169.254.169.254/latest/meta-data/iam/", `check errors (strategy.canary.steps[1].analysis.checks[0]): link-local (cloud metadata) address "169.254.169.254:80" is not in allow.checkHosts of source shop`},
		{"https://internal.acme.com/", `host "internal.acme.com:443" is not in allow.checkHosts`},
	}
	for _, tt := range tests {
		err := checkHTTPHosts(hosts, env(tt.url), rev)
		if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("%s: err = %v, want %q", tt.url, err, tt.want)
		}
	}
}

// A rolling update's checkpoint analysis checks are checked as a
// canary's, named by their field under strategy.rolling.steps.
func TestCheckHTTPHostsOfRollingCheckpointAnalysis(t *testing.T) {
	hosts := (&config.Source{Name: "shop", Allow: config.Tenancy{CheckHosts: []string{"api.acme.com"}}}).CheckHostPolicy()
	w := spec.Percent(25)
	env := &spec.Environment{Name: "production", Strategy: &spec.Strategy{Rolling: &spec.Rolling{Steps: []spec.CanaryStep{
		{SetWeight: &w}, {Analysis: &spec.Analysis{Checks: []spec.Check{{Name: "errors", HTTP: &spec.HTTPCheck{URL: "https://internal.acme.com/"}}}}},
	}}}}
	err := checkHTTPHosts(hosts, env, "0123456789abcdef0123456789abcdef01234567")
	if err == nil || !strings.Contains(err.Error(), "strategy.rolling.steps[1].analysis.checks[0]") {
		t.Errorf("err = %v, want the rolling step's check refused", err)
	}
}
