package agent

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/sts"
	gh "github.com/google/go-github/v60/github"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"

	"github.com/jibe-dev/jibe/config"
	"github.com/jibe-dev/jibe/internal/apimetrics"
	"github.com/jibe-dev/jibe/internal/awsemu"
	"github.com/jibe-dev/jibe/internal/awsemu/awsemutest"
	"github.com/jibe-dev/jibe/providers/aws/account"
	"github.com/jibe-dev/jibe/providers/github"
)

// After a rollout, /metrics of the real agent shows every metric issue 17
// asks for, each with HELP text and the labels documented: what runs
// where, rollout and step durations, the work queue, source polls, API
// calls (Kubernetes, AWS with throttles and errors), GitHub's rate limit
// and the commit statuses. The example alerts (docs/alerts.yaml) name
// only metrics the agent exposes.
func TestE2EMetricsAfterARollout(t *testing.T) {
	e := newE2EWith(t, func(h *harness, o *Options) {
		o.Sources = []Source{h.git}
		// The client as cmd/jibe builds it: rate limits recorded.
		client := gh.NewClient(&http.Client{Transport: apimetrics.GitHubRate(nil)}).WithAuthToken("ghp_jibe")
		client.BaseURL, _ = url.Parse(h.emu.URL() + "/")
		h.reporter = github.NewReporter(client, github.ReporterOptions{Logger: o.Logger})
	})
	if err := e.agent.Register(e.reporter.Collectors()...); err != nil {
		t.Fatal(err)
	}
	v1 := e.push(e.files("registry.example.com/shop/web:1.0.0", rolling))
	e.settle("v1 in production", e.final("production", v1))
	throttleOnce(t)

	srv := httptest.NewServer(e.agent.Handler(nil))
	defer srv.Close()
	text := get(t, srv.URL+"/metrics")
	families := parseMetrics(t, text)
	lint(t, text)

	// Each metric, with a series matching the labels given and a value
	// test (nil: any).
	checks := []struct {
		name   string
		labels map[string]string
		ok     func(float64) bool
	}{
		{"jibe_application_info", map[string]string{"source": "shop", "application": "shop", "environment": "production",
			"revision": v1, "state": "succeeded", "artifacts": "web=1.0.0"}, equal(1)},
		{"jibe_rollout_duration_seconds", map[string]string{"platform": "kubernetes", "strategy": "rolling", "outcome": "succeeded"}, equal(2)},
		{"jibe_rollout_step_duration_seconds", map[string]string{"kind": "apply", "outcome": "ok"}, atLeast(2)},
		{"jibe_rollout_step_duration_seconds", map[string]string{"kind": "wait-healthy", "outcome": "ok"}, atLeast(2)},
		{"workqueue_depth", map[string]string{"name": "applications"}, equal(0)},
		{"workqueue_adds_total", map[string]string{"name": "applications"}, atLeast(1)},
		{"workqueue_queue_duration_seconds", map[string]string{"name": "applications"}, atLeast(1)},
		{"workqueue_work_duration_seconds", map[string]string{"name": "applications"}, atLeast(1)},
		{"workqueue_retries_total", map[string]string{"name": "applications"}, nil},
		{"workqueue_unfinished_work_seconds", map[string]string{"name": "applications"}, nil},
		{"workqueue_longest_running_processor_seconds", map[string]string{"name": "applications"}, nil},
		{"jibe_source_poll_duration_seconds", map[string]string{"source": "shop"}, atLeast(1)},
		{"jibe_source_poll_errors_total", map[string]string{"source": "shop"}, equal(0)},
		{"jibe_source_last_success_timestamp_seconds", map[string]string{"source": "shop"}, atLeast(1)},
		{"rest_client_requests_total", map[string]string{"method": "PATCH"}, atLeast(1)},
		{"rest_client_request_duration_seconds", map[string]string{"verb": "PATCH"}, atLeast(1)},
		{"jibe_aws_api_calls_total", map[string]string{"account": "throttled", "operation": "GetCallerIdentity", "outcome": "ok"}, equal(1)},
		{"jibe_aws_api_throttles_total", map[string]string{"account": "throttled", "service": "STS", "operation": "GetCallerIdentity"}, equal(1)},
		{"jibe_aws_api_errors_total", map[string]string{"account": "throttled", "operation": "GetCallerIdentity", "outcome": "throttled"}, equal(1)},
		{"jibe_github_rate_limit_remaining", map[string]string{"resource": "core"}, atLeast(1)},
		{"jibe_github_rate_limit", map[string]string{"resource": "core"}, atLeast(1)},
		{"jibe_github_statuses_queued_total", nil, atLeast(4)},
		{"jibe_github_statuses_posted_total", nil, atLeast(4)},
		{"jibe_github_statuses_dropped_total", nil, equal(0)},
		{"jibe_github_statuses_pending", nil, equal(0)},
		{"jibe_agent_ready", nil, equal(1)},
		{"jibe_reconciles_total", map[string]string{"source": "shop", "app": "shop", "outcome": "ok"}, atLeast(1)},
		{"jibe_rollout_events_total", map[string]string{"source": "shop", "app": "shop", "kind": "succeeded"}, equal(2)},
	}
	for _, c := range checks {
		mf := families[c.name]
		if mf == nil {
			t.Errorf("/metrics has no %s", c.name)
			continue
		}
		if mf.GetHelp() == "" {
			t.Errorf("%s has no HELP text", c.name)
		}
		v, ok := seriesValue(mf, c.labels)
		switch {
		case !ok:
			t.Errorf("%s has no series with labels %v:\n%s", c.name, c.labels, grepLines(text, c.name))
		case c.ok != nil && !c.ok(v):
			t.Errorf("%s%v = %v:\n%s", c.name, c.labels, v, grepLines(text, c.name))
		}
	}
	for name, mf := range families {
		if mf.GetHelp() == "" {
			t.Errorf("%s has no HELP text", name)
		}
	}
	t.Run("alerts", func(t *testing.T) { checkAlerts(t, families) })
}

// throttleOnce makes one STS call of an account's client that AWS
// throttles once before it succeeds.
func throttleOnce(t *testing.T) {
	t.Helper()
	t.Setenv("JIBE_THROTTLED_KEY", "AKIATHROTTLED")
	t.Setenv("JIBE_THROTTLED_SECRET", "secret")
	env := awsemutest.Start(t, awsemu.Options{Accounts: map[string]string{"AKIATHROTTLED": "222222222222"}})
	acct := config.AWSAccount{Name: "throttled", AccountID: "222222222222", Region: "eu-west-1", Endpoint: env.URL,
		Credentials: &config.AWSCredentials{AccessKeyID: config.SecretRef{Env: "JIBE_THROTTLED_KEY"}, SecretAccessKey: config.SecretRef{Env: "JIBE_THROTTLED_SECRET"}}}
	cfg, err := account.Config(t.Context(), acct, "")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Retryer = awsemutest.Retryer(1)
	env.Emu.Inject(awsemu.Fault{Service: "sts", Operation: "GetCallerIdentity", Kind: awsemu.Throttle, Count: 1})
	if _, err := sts.NewFromConfig(cfg).GetCallerIdentity(t.Context(), &sts.GetCallerIdentityInput{}); err == nil {
		t.Fatal("a throttled GetCallerIdentity succeeded")
	}
	if _, err := sts.NewFromConfig(cfg).GetCallerIdentity(t.Context(), &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatal(err)
	}
}

func equal(want float64) func(float64) bool  { return func(v float64) bool { return v == want } }
func atLeast(min float64) func(float64) bool { return func(v float64) bool { return v >= min } }

// parseMetrics parses the text exposition format.
func parseMetrics(t *testing.T, text string) map[string]*dto.MetricFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		t.Fatalf("parsing /metrics: %v", err)
	}
	return families
}

// lint runs Prometheus's linter over the agent's own metrics (the Go
// runtime's and the process's are the client library's).
func lint(t *testing.T, text string) {
	t.Helper()
	problems, err := promlint.New(strings.NewReader(text)).Lint()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		if !strings.HasPrefix(p.Metric, "go_") && !strings.HasPrefix(p.Metric, "process_") {
			t.Errorf("promlint: %s: %s", p.Metric, p.Text)
		}
	}
}

// seriesValue returns the value of the first series of mf whose labels
// include want: a counter's or gauge's value, a histogram's count.
func seriesValue(mf *dto.MetricFamily, want map[string]string) (float64, bool) {
	for _, m := range mf.GetMetric() {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		match := true
		for k, v := range want {
			match = match && have[k] == v
		}
		if !match {
			continue
		}
		switch {
		case m.Counter != nil:
			return m.GetCounter().GetValue(), true
		case m.Gauge != nil:
			return m.GetGauge().GetValue(), true
		case m.Histogram != nil:
			return float64(m.GetHistogram().GetSampleCount()), true
		case m.Untyped != nil:
			return m.GetUntyped().GetValue(), true
		}
	}
	return 0, false
}

func grepLines(text, name string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, name) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// checkAlerts parses docs/alerts.yaml, a Prometheus rule file, and checks
// that every metric an expression names is one the agent exposes.
func checkAlerts(t *testing.T, families map[string]*dto.MetricFamily) {
	data, err := os.ReadFile("../docs/alerts.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var rules struct {
		Groups []struct {
			Name  string `yaml:"name"`
			Rules []struct {
				Alert       string            `yaml:"alert"`
				Expr        string            `yaml:"expr"`
				For         string            `yaml:"for"`
				Labels      map[string]string `yaml:"labels"`
				Annotations map[string]string `yaml:"annotations"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	dec.KnownFields(true)
	if err := dec.Decode(&rules); err != nil {
		t.Fatalf("docs/alerts.yaml: %v", err)
	}
	var alerts []string
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			alerts = append(alerts, r.Alert)
			if r.Alert == "" || r.Expr == "" || r.Annotations["summary"] == "" || r.Annotations["runbook"] == "" {
				t.Errorf("docs/alerts.yaml: rule %q needs alert, expr, annotations.summary and annotations.runbook", r.Alert)
			}
			for _, name := range metricNames(r.Expr) {
				if families[name] == nil {
					t.Errorf("docs/alerts.yaml: alert %s names %s, which the agent does not expose", r.Alert, name)
				}
			}
		}
	}
	for _, want := range []string{"JibeRolloutFailed", "JibeRolloutStuckWaiting", "JibeSourceFailing", "JibeCommitStatusesDropped",
		"JibeGitHubRateLimitLow", "JibeAgentNotReady"} {
		if !slices.Contains(alerts, want) {
			t.Errorf("docs/alerts.yaml has no alert %s (has %v)", want, alerts)
		}
	}
}

// promIdent matches identifiers in a PromQL expression; strings and label
// matchers are removed first.
var (
	promString  = regexp.MustCompile(`"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'`)
	promMatcher = regexp.MustCompile(`\{[^}]*\}`)
	promGroup   = regexp.MustCompile(`\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)`)
	promRange   = regexp.MustCompile(`\[[^\]]*\]`)
	promIdent   = regexp.MustCompile(`[a-zA-Z_:][a-zA-Z0-9_:]*`)
	promNumber  = regexp.MustCompile(`\b[0-9][0-9a-zA-Z_.]*`)
)

// promKeywords are PromQL's functions, aggregations and keywords: every
// other identifier of an expression is a metric name.
var promKeywords = func() map[string]bool {
	out := map[string]bool{}
	for _, w := range strings.Fields(`sum min max avg count stddev stdvar topk bottomk quantile count_values group
		rate irate increase delta idelta deriv changes resets time timestamp vector scalar abs absent absent_over_time
		ceil floor round clamp clamp_min clamp_max histogram_quantile label_replace label_join sort sort_desc
		avg_over_time min_over_time max_over_time sum_over_time count_over_time last_over_time present_over_time
		and or unless bool offset by without on ignoring group_left group_right le inf nan`) {
		out[w] = true
	}
	return out
}()

// metricNames returns the metric names expr selects, with a histogram's
// _bucket, _sum and _count suffixes taken off.
func metricNames(expr string) []string {
	expr = promString.ReplaceAllString(expr, "")
	expr = promMatcher.ReplaceAllString(expr, "")
	expr = promGroup.ReplaceAllString(expr, "")
	expr = promRange.ReplaceAllString(expr, "")
	expr = promNumber.ReplaceAllString(expr, "")
	var out []string
	for _, id := range promIdent.FindAllString(expr, -1) {
		if promKeywords[strings.ToLower(id)] {
			continue
		}
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			if base, ok := strings.CutSuffix(id, suffix); ok && strings.HasPrefix(base, "jibe_") {
				id = base
			}
		}
		out = append(out, id)
	}
	return out
}

// /readyz fails, saying why, until a source has polled successfully.
func TestReadyzUntilASourcePolls(t *testing.T) {
	h := newHarnessWith(t, e2eConfig, func(h *harness, o *Options) { o.Sources = []Source{h.git} })
	srv := httptest.NewServer(h.agent.Handler(nil))
	defer srv.Close()
	code, body := getStatus(t, srv.URL+"/readyz")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "source shop: not polled yet") {
		t.Errorf("before a poll: %d %q, want 503 naming source shop", code, body)
	}
	h.commit(map[string]string{"apps/shop/jibe.yaml": validSpec, "apps/shop/k8s/cm.yaml": configMap})
	h.poll()
	if code, body := getStatus(t, srv.URL+"/readyz"); code != http.StatusOK || body != "ready\n" {
		t.Errorf("after a poll: %d %q, want 200 ready", code, body)
	}
}

func getStatus(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
