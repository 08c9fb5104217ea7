package spec

import (
	"strings"
	"time"
)

// The defaults, in one place. Every default of the spec is set here and
// documented on its field.
const (
	DefaultLambdaAlias          = "live"
	DefaultCheckInterval        = 30 * time.Second
	DefaultHTTPTimeout          = 10 * time.Second
	DefaultHTTPMethod           = "GET"
	DefaultCloudWatchWindow     = 5 * time.Minute
	DefaultMetricPeriod         = time.Minute
	DefaultRollbackWindow       = 10 * time.Minute
	DefaultApprovalReviews      = 1
	DefaultApprovalPermission   = PermissionWrite
	DefaultHealthCheckGrace     = 5 * time.Minute
	DefaultMinHealthyPercentage = Percent(90)
	DefaultRollback             = RollbackAutomatic
	DefaultFirstDeployFailure   = FirstDeployRemove
	DefaultRollbackTimeout      = 10 * time.Minute
	DefaultInconclusive         = InconclusiveFail
	defaultHTTPStatus           = 200
	defaultASGHealthCheckWithTG = "ELB"
	defaultASGHealthCheckNoTG   = "EC2"
)

// SetDefaults fills every unset field that has a default. It is idempotent.
func SetDefaults(app *Application) {
	s := &app.Spec
	if s.Drift == nil {
		s.Drift = &Drift{}
	}
	if s.Drift.Correct == nil {
		s.Drift.Correct = ptr(true)
	}
	for i := range s.Targets {
		defaultTarget(&s.Targets[i])
	}
	for i := range s.Environments {
		defaultEnvironment(&s.Environments[i])
	}
}

func defaultTarget(t *Target) {
	if t.Lambda != nil && t.Lambda.Alias == "" {
		t.Lambda.Alias = DefaultLambdaAlias
	}
	if a := t.ECS; a != nil && a.AutoScaling != nil {
		defaultPolicies(a.AutoScaling.Policies)
	}
	if g := t.AutoScalingGroup; g != nil {
		defaultAutoScalingGroup(g)
	}
}

func defaultPolicies(policies []ScalingPolicy) {
	for i := range policies {
		if tt := policies[i].TargetTracking; tt != nil && tt.CustomMetric != nil {
			defaultMetric(tt.CustomMetric)
		}
		if ps := policies[i].PredictiveScaling; ps != nil {
			for _, m := range []*Metric{ps.CustomizedLoadMetric, ps.CustomizedScalingMetric, ps.CustomizedCapacityMetric} {
				if m != nil {
					defaultMetric(m)
				}
			}
		}
	}
}

func defaultAutoScalingGroup(g *AutoScalingGroupTarget) {
	if g.HealthCheckType == "" {
		g.HealthCheckType = defaultASGHealthCheckNoTG
		if len(g.TargetGroupArns) > 0 {
			g.HealthCheckType = defaultASGHealthCheckWithTG
		}
	}
	if g.HealthCheckGracePeriod == nil {
		g.HealthCheckGracePeriod = &Duration{DefaultHealthCheckGrace}
	}
	if g.InstanceRefresh == nil {
		g.InstanceRefresh = &InstanceRefresh{}
	}
	defaultLifecycleHooks(g.LifecycleHooks)
	if g.InstanceRefresh.MinHealthyPercentage == nil {
		g.InstanceRefresh.MinHealthyPercentage = ptr(DefaultMinHealthyPercentage)
	}
	defaultPolicies(g.ScalingPolicies)
}

func defaultEnvironment(e *Environment) {
	if e.Strategy == nil || e.Strategy.Kind() == StrategyRolling && e.Strategy.Rolling == nil {
		e.Strategy = &Strategy{Rolling: &Rolling{}}
	}
	if bg := e.Strategy.BlueGreen; bg != nil && bg.RollbackWindow == nil {
		bg.RollbackWindow = &Duration{DefaultRollbackWindow}
	}
	if c := e.Strategy.Canary; c != nil {
		if c.Linear != nil && len(c.Steps) == 0 {
			c.Steps, c.expanded = c.Linear.Steps(), true
		}
		for i := range c.Steps {
			defaultCanaryStep(&c.Steps[i])
		}
	}
	if r := e.Strategy.Rolling; r != nil {
		for i := range r.Steps {
			defaultCanaryStep(&r.Steps[i])
		}
	}
	if e.Rollback == "" {
		e.Rollback = DefaultRollback
	}
	if e.FirstDeployFailure == "" {
		e.FirstDeployFailure = DefaultFirstDeployFailure
	}
	if e.RollbackTimeout == nil {
		e.RollbackTimeout = &Duration{DefaultRollbackTimeout}
	}
	defaultApproval(e.Approval)
	defaultChecks(e.Verify)
}

func defaultCanaryStep(s *CanaryStep) {
	if s.Analysis != nil {
		defaultChecks(s.Analysis.Checks)
	}
	defaultApproval(s.Approval)
}

func defaultApproval(a *Approval) {
	if a == nil {
		return
	}
	if a.Reviews == 0 {
		a.Reviews = DefaultApprovalReviews
	}
	if a.From == nil {
		a.From = &Approvers{}
	}
	if a.From.Permission == "" && len(a.From.Users) == 0 && len(a.From.Teams) == 0 {
		a.From.Permission = DefaultApprovalPermission
	}
}

func defaultChecks(checks []Check) {
	for i := range checks {
		defaultCheck(&checks[i])
	}
}

func defaultCheck(c *Check) {
	if c.Interval == nil {
		c.Interval = &Duration{DefaultCheckInterval}
	}
	if c.Duration == nil {
		c.Duration = &Duration{}
	}
	if c.Inconclusive == "" {
		c.Inconclusive = DefaultInconclusive
	}
	if h := c.HTTP; h != nil {
		if h.Method == "" {
			h.Method = DefaultHTTPMethod
		}
		if len(h.ExpectStatus) == 0 {
			h.ExpectStatus = []int{defaultHTTPStatus}
		}
		if h.Timeout == nil {
			h.Timeout = &Duration{DefaultHTTPTimeout}
		}
	}
	if cw := c.CloudWatch; cw != nil {
		defaultCloudWatch(cw)
	}
	if c.Name == "" {
		c.Name = checkName(c)
	}
}

func defaultCloudWatch(cw *CloudWatchCheck) {
	if cw.Window == nil {
		cw.Window = &Duration{DefaultCloudWatchWindow}
	}
	if cw.Metric != nil {
		defaultMetric(cw.Metric)
	}
	for k, m := range cw.Metrics {
		defaultMetric(&m)
		cw.Metrics[k] = m
	}
}

func defaultMetric(m *Metric) {
	if m.Period == nil {
		m.Period = &Duration{DefaultMetricPeriod}
	}
}

// checkName derives a readable name for a check that has none.
func checkName(c *Check) string {
	switch c.Kind() {
	case CheckHTTP:
		return "http " + c.HTTP.URL
	case CheckCloudWatch:
		if c.CloudWatch.Metric != nil {
			return "cloudwatch " + c.CloudWatch.Metric.Namespace + " " + c.CloudWatch.Metric.Name
		}
		return "cloudwatch " + c.CloudWatch.Expression
	case CheckAlarm:
		return "alarms " + strings.Join(c.Alarm.Names, ",")
	case CheckPrometheus:
		return "prometheus " + c.Prometheus.Query
	}
	return ""
}

func ptr[T any](v T) *T { return &v }

// The default limits of an application (see Limits). Each is far above
// what an application needs, and far below what would let one application
// exhaust the agent's memory or time.
const (
	DefaultFilesPerApplication = 2000
	DefaultBytesPerFile        = 8 << 20
	DefaultBytesPerApplication = 64 << 20
	DefaultEnvironments        = 100
	DefaultTargets             = 50
	DefaultStepsPerStrategy    = 50
	DefaultManifestsPerTarget  = 2000
)

// Limits bound what loading one application may read, render and hold in
// memory. Loading refuses an application that exceeds one, with a problem
// naming the limit, its value and where to change it. A zero field means
// its default.
type Limits struct {
	// FilesPerApplication bounds the files in an application's folder.
	FilesPerApplication int
	// BytesPerFile bounds each file of an application's folder.
	BytesPerFile int64
	// BytesPerApplication bounds the files of an application's folder
	// together, and, separately, what placeholders add to them over all
	// environments.
	BytesPerApplication int64
	// Environments bounds an application's environments.
	Environments int
	// Targets bounds an application's targets.
	Targets int
	// StepsPerStrategy bounds the steps of an environment's strategy.
	StepsPerStrategy int
	// ManifestsPerTarget bounds the Kubernetes objects of a target.
	ManifestsPerTarget int
}

// WithDefaults returns l with each zero field set to its default.
func (l Limits) WithDefaults() Limits {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&l.FilesPerApplication, DefaultFilesPerApplication)
	def(&l.Environments, DefaultEnvironments)
	def(&l.Targets, DefaultTargets)
	def(&l.StepsPerStrategy, DefaultStepsPerStrategy)
	def(&l.ManifestsPerTarget, DefaultManifestsPerTarget)
	if l.BytesPerFile <= 0 {
		l.BytesPerFile = DefaultBytesPerFile
	}
	if l.BytesPerApplication <= 0 {
		l.BytesPerApplication = DefaultBytesPerApplication
	}
	return l
}

// defaultLifecycleHooks sets AWS's defaults: a 1h heartbeat, ABANDON.
func defaultLifecycleHooks(hooks []LifecycleHook) {
	for i := range hooks {
		if hooks[i].HeartbeatTimeout == nil {
			hooks[i].HeartbeatTimeout = &Duration{time.Hour}
		}
		if hooks[i].DefaultResult == "" {
			hooks[i].DefaultResult = "ABANDON"
		}
	}
}
