package checks

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"k8s.io/utils/clock"

	"github.com/jibe-dev/jibe/config"
	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/spec"
)

// Options configure the checkers New wires together.
type Options struct {
	// HTTP sends HTTP checks and Prometheus queries. Default: see HTTP.Client.
	HTTP *http.Client
	// AWS returns the checked SDK configuration of an account (its name in
	// the agent configuration) and region. Without it, CloudWatch and
	// alarm checks stall.
	AWS func(ctx context.Context, account, region string) (aws.Config, error)
	// Prometheus are the servers Prometheus checks may name.
	Prometheus []config.PrometheusServer
	// Clock is the agent's clock. Default the wall clock.
	Clock clock.PassiveClock
}

// Checks measures every kind of check by handing it to the checker of its
// kind.
type Checks struct {
	http       *HTTP
	cloudWatch *CloudWatch
	alarm      *Alarm
	prometheus *Prometheus
}

var _ reconcile.Checker = (*Checks)(nil)

// New returns the checkers configured by o. CloudWatch clients are built
// once per account and region and shared by CloudWatch and alarm checks.
func New(o Options) *Checks {
	clients := &cloudWatchClients{aws: o.AWS, byPlace: map[[2]string]*cloudwatch.Client{}}
	return &Checks{
		http:       &HTTP{Client: o.HTTP},
		cloudWatch: &CloudWatch{Client: clients.metrics, Clock: o.Clock},
		alarm:      &Alarm{Client: clients.alarms},
		prometheus: &Prometheus{Servers: o.Prometheus, HTTP: o.HTTP, Clock: o.Clock},
	}
}

// Measure measures c once with the checker of its kind. A check that is
// not exactly one kind stalls.
func (cs *Checks) Measure(ctx context.Context, c *spec.Check, in reconcile.CheckInput) (reconcile.Measurement, error) {
	switch k := c.Kind(); k {
	case spec.CheckHTTP:
		return cs.http.Measure(ctx, c, in)
	case spec.CheckCloudWatch:
		return cs.cloudWatch.Measure(ctx, c, in)
	case spec.CheckAlarm:
		return cs.alarm.Measure(ctx, c, in)
	case spec.CheckPrometheus:
		return cs.prometheus.Measure(ctx, c, in)
	case spec.CheckUnknown:
		return reconcile.Measurement{}, reconcile.Stalled(fmt.Errorf("check %q must set exactly one of http, cloudWatch, alarm and prometheus", c.Name))
	default:
		return reconcile.Measurement{}, reconcile.Stalled(fmt.Errorf("check %q is of kind %s, which this agent cannot measure", c.Name, k))
	}
}

// cloudWatchClients builds CloudWatch clients once per account and region.
type cloudWatchClients struct {
	aws     func(ctx context.Context, account, region string) (aws.Config, error)
	mu      sync.Mutex
	byPlace map[[2]string]*cloudwatch.Client
}

func (cc *cloudWatchClients) client(ctx context.Context, account, region string) (*cloudwatch.Client, error) {
	if cc.aws == nil {
		return nil, reconcile.Stalled(errors.New("the agent configuration has no AWS accounts, which CloudWatch and alarm checks need"))
	}
	key := [2]string{account, region}
	cc.mu.Lock()
	c, ok := cc.byPlace[key]
	cc.mu.Unlock()
	if ok {
		return c, nil
	}
	cfg, err := cc.aws(ctx, account, region)
	if err != nil {
		return nil, fmt.Errorf("AWS account %s in %s: %w", account, region, err)
	}
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if c, ok := cc.byPlace[key]; ok {
		return c, nil
	}
	c = cloudwatch.NewFromConfig(cfg)
	cc.byPlace[key] = c
	return c, nil
}

func (cc *cloudWatchClients) metrics(ctx context.Context, account, region string) (cloudwatch.GetMetricDataAPIClient, error) {
	return cc.client(ctx, account, region)
}

func (cc *cloudWatchClients) alarms(ctx context.Context, account, region string) (cloudwatch.DescribeAlarmsAPIClient, error) {
	return cc.client(ctx, account, region)
}

// needAWS stalls an AWS check of an environment that has no AWS placement.
func needAWS(c *spec.Check, in reconcile.CheckInput) error {
	if in.Account != "" {
		return nil
	}
	return reconcile.Stalled(fmt.Errorf("check %q reads CloudWatch, but the environment runs outside AWS; give the environment an aws placement (account and region)", c.Name))
}

// judgeValue compares the value of what was measured with a threshold,
// both bounds inclusive. over qualifies the value, e.g. " over 5m". NaN
// is no data.
func judgeValue(what string, v float64, over string, t spec.Threshold) reconcile.Measurement {
	if math.IsNaN(v) {
		return reconcile.Measurement{NoData: true, Detail: fmt.Sprintf("%s is NaN%s (no data)", what, over)}
	}
	m := reconcile.Measurement{Value: v, Passed: true}
	bound := "within " + t.String()
	switch {
	case t.Max != nil && v > *t.Max:
		m.Passed, bound = false, fmt.Sprintf("above max %g", *t.Max)
	case t.Min != nil && v < *t.Min:
		m.Passed, bound = false, fmt.Sprintf("below min %g", *t.Min)
	}
	m.Detail = fmt.Sprintf("%s = %s%s, %s", what, formatValue(v), over, bound)
	return m
}

// formatValue writes a value with up to 10 significant digits, so that
// 0.2000000000000001 reads 0.2.
func formatValue(v float64) string {
	return strconv.FormatFloat(v, 'g', 10, 64)
}

// shortDuration writes 5m rather than 5m0s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
