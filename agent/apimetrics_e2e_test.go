package agent

import (
	"net/http/httptest"
	"net/url"
	"regexp"
	"testing"

	"github.com/jibe-dev/jibe/config"
	"github.com/jibe-dev/jibe/internal/awsemu"
	"github.com/jibe-dev/jibe/internal/awsemu/awsemutest"
	"github.com/jibe-dev/jibe/providers/aws/account"
)

// /metrics shows what the agent costs each API: client-go's requests to
// the cluster's API server (count by code, method and host; latency by
// verb and host), and the AWS calls of clients built from an account's
// configuration, by account, region, service, operation and outcome.
func TestMetricsCountAPICalls(t *testing.T) {
	e := newE2E(t)
	v1 := e.push(e.files("registry.example.com/shop/web:1.0.0", rolling))
	e.settle("v1 in production", e.final("production", v1))

	t.Setenv("JIBE_METRICS_KEY", "AKIAMETRICS")
	t.Setenv("JIBE_METRICS_SECRET", "secret")
	env := awsemutest.Start(t, awsemu.Options{Accounts: map[string]string{"AKIAMETRICS": "111111111111"}})
	acct := config.AWSAccount{Name: "metered", AccountID: "111111111111", Region: "eu-west-1", Endpoint: env.URL,
		Credentials: &config.AWSCredentials{AccessKeyID: config.SecretRef{Env: "JIBE_METRICS_KEY"}, SecretAccessKey: config.SecretRef{Env: "JIBE_METRICS_SECRET"}}}
	cfg, err := account.Config(t.Context(), acct, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := account.Verify(t.Context(), cfg, acct); err != nil {
		t.Fatal(err)
	}

	srv := httptest.NewServer(e.agent.Handler(nil))
	defer srv.Close()
	m := get(t, srv.URL+"/metrics")
	u, err := url.Parse(e.cluster.RESTConfig().Host)
	if err != nil {
		t.Fatal(err)
	}
	host := regexp.QuoteMeta(u.Host)
	for _, want := range []string{
		`rest_client_requests_total\{code="201",host="` + host + `",method="PATCH"\} [1-9]`,
		`rest_client_requests_total\{code="200",host="` + host + `",method="GET"\} [1-9]`,
		`rest_client_request_duration_seconds_count\{host="` + host + `",verb="PATCH"\} [1-9]`,
		`jibe_aws_api_calls_total\{account="metered",operation="GetCallerIdentity",outcome="ok",region="eu-west-1",service="STS"\} 1`,
	} {
		if !regexp.MustCompile(want).MatchString(m) {
			t.Errorf("/metrics has no line matching %s", want)
		}
	}
}
