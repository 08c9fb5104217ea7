package spec

import (
	"fmt"
	"math"
	"regexp"
	"strings"

	"github.com/jibe-dev/jibe/internal/strictyaml"
)

var (
	dnsLabel     = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	identifierRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]*$`)
	amiRE        = regexp.MustCompile(`^ami-[0-9a-f]{8,17}$`)
	imageRE      = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9._:/-]*[a-zA-Z0-9_](@sha256:[a-f0-9]{64})?$|^[a-zA-Z0-9]+@sha256:[a-f0-9]{64}$`)
	aliasRE      = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9_-]{0,127}$`)
	workloadRE   = regexp.MustCompile(`^[A-Z][A-Za-z]*/[a-z0-9]([-a-z0-9.]*[a-z0-9])?$`)
	teamRE       = regexp.MustCompile(`^[A-Za-z0-9-]+/[A-Za-z0-9_.-]+$`)
	metricIDRE   = regexp.MustCompile(`^[a-z][a-zA-Z0-9_]*$`)
)

// validator collects the problems of one spec file.
type validator struct {
	doc  *strictyaml.Document
	errs strictyaml.ErrorList
	// warns are problems that do not make the spec invalid.
	warns strictyaml.ErrorList
	// platforms are the declared platforms; unchecked when checked is
	// false (see WithPlatforms).
	platforms Platforms
	checked   bool
	// ordered are the spec's targets in spec order.
	ordered []*Target
}

func (v *validator) errorf(field, format string, args ...any) {
	v.errs = append(v.errs, v.doc.Errorf(field, format, args...))
}

// validate checks the rules the decoder cannot: values, cross-references
// and combinations, and, when checked, targets against the declared
// platforms. app has its defaults set. It returns the problems and the
// warnings.
func validate(doc *strictyaml.Document, app *Application, platforms Platforms, checked bool) (errs, warns strictyaml.ErrorList) {
	v := &validator{doc: doc, platforms: platforms, checked: checked}
	v.header(app)
	v.artifacts(app.Spec.Artifacts)
	for k := range app.Spec.Variables {
		v.variableName(strictyaml.JoinKey("spec.variables", k), k)
	}
	targets := v.targets(app.Spec.Targets)
	v.environments(app.Spec.Environments, targets)
	return v.errs, v.warns
}

func (v *validator) header(app *Application) {
	if app.APIVersion != "" && app.APIVersion != APIVersion {
		v.errorf("apiVersion", "unsupported apiVersion %q; use %q", app.APIVersion, APIVersion)
	}
	if app.Kind != "" && app.Kind != KindApplication {
		v.errorf("kind", "kind %q is not an application spec; use %q", app.Kind, KindApplication)
	}
	v.dnsName("metadata.name", app.Metadata.Name)
}

func (v *validator) dnsName(field, name string) {
	if name != "" && (!dnsLabel.MatchString(name) || len(name) > 63) {
		v.errorf(field, "%q is not a valid name: use at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit", name)
	}
}

func (v *validator) variableName(field, name string) {
	if !identifierRE.MatchString(name) {
		v.errorf(field, "%q is not a valid name: start with a letter, then letters, digits, '_' or '-'", name)
	}
}

func (v *validator) artifacts(arts map[string]Artifact) {
	for name, a := range arts {
		field := strictyaml.JoinKey("spec.artifacts", name)
		v.variableName(field, name)
		switch a.Kind() {
		case ArtifactUnknown:
			v.errorf(field, "set exactly one of image, s3 and ami")
		case ArtifactImage:
			if !imageRE.MatchString(a.Image) {
				v.errorf(field+".image", "%q is not a valid image reference, such as registry.example.com/team/web:1.4.2", a.Image)
			}
		case ArtifactAMI:
			if !amiRE.MatchString(a.AMI) {
				v.errorf(field+".ami", "%q is not an AMI ID such as ami-0123456789abcdef0", a.AMI)
			}
		}
		if a.Update != nil {
			v.updatePolicy(field, &a)
		}
	}
}

// targets validates the targets and returns them by name.
func (v *validator) targets(targets []Target) map[string]*Target {
	byName := map[string]*Target{}
	for i := range targets {
		t := &targets[i]
		field := strictyaml.JoinIndex("spec.targets", i)
		v.dnsName(field+".name", t.Name)
		if _, dup := byName[t.Name]; dup && t.Name != "" {
			v.errorf(field+".name", "target name %q is used twice; target names must be unique", t.Name)
		}
		byName[t.Name] = t
		v.ordered = append(v.ordered, t)
		v.target(field, t)
	}
	return byName
}

func (v *validator) target(field string, t *Target) {
	switch t.Platform() {
	case PlatformUnknown:
		v.errorf(field, "set exactly one of ecs, lambda, kubernetes and autoScalingGroup")
	case PlatformECS:
		v.ecsTarget(field+".ecs", t.ECS)
	case PlatformLambda:
		if !aliasRE.MatchString(t.Lambda.Alias) || isAllDigits(t.Lambda.Alias) {
			v.errorf(field+".lambda.alias", "%q is not a valid alias name: start with a letter, then letters, digits, '_' or '-'", t.Lambda.Alias)
		}
		if n := t.Lambda.ProvisionedConcurrency; n != nil && *n < 1 {
			v.errorf(field+".lambda.provisionedConcurrency", "%d is not a number of execution environments: give 1 or more, or leave it out for none", *n)
		}
	case PlatformKubernetes:
		if w := t.Kubernetes.Workload; w != "" && !workloadRE.MatchString(w) {
			v.errorf(field+".kubernetes.workload", "%q is not Kind/name, such as Deployment/web", w)
		}
	case PlatformAutoScalingGroup:
		v.autoScalingGroup(field+".autoScalingGroup", t.AutoScalingGroup)
	}
	v.declared(field, t)
}

// declared checks that this Jibe can deploy t's platform: an error when
// no platform of its kind is declared.
func (v *validator) declared(field string, t *Target) {
	p := t.Platform()
	if !v.checked || p == PlatformUnknown {
		return
	}
	if v.platforms.Of(p) == nil {
		v.errorf(field+"."+p.String(), "target %q: this Jibe cannot deploy %s targets; remove the target, or run a Jibe release whose platforms include %s", t.Name, p, p)
	}
}

func isAllDigits(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}

func (v *validator) ecsTarget(field string, e *ECSTarget) {
	v.traffic(field+".traffic", e.Traffic)
	if as := e.AutoScaling; as != nil {
		if as.MinCapacity > as.MaxCapacity {
			v.errorf(field+".autoScaling.minCapacity", "minCapacity %d is above maxCapacity %d", as.MinCapacity, as.MaxCapacity)
		}
		v.policies(field+".autoScaling.policies", as.Policies, false)
		v.scheduledActions(field+".autoScaling.scheduledActions", as.ScheduledActions)
	}
}

// policies checks scaling policies; predictive says the platform has
// predictive scaling (Auto Scaling groups).
func (v *validator) policies(field string, policies []ScalingPolicy, predictive bool) {
	seen := map[string]bool{}
	for i, p := range policies {
		f := strictyaml.JoinIndex(field, i)
		if seen[p.Name] {
			v.errorf(f+".name", "policy name %q is used twice", p.Name)
		}
		seen[p.Name] = true
		switch kinds := oneOf(p.TargetTracking != nil, p.StepScaling != nil, p.PredictiveScaling != nil); {
		case p.PredictiveScaling != nil && !predictive:
			v.errorf(f+".predictiveScaling", "predictive scaling is for Auto Scaling groups only; use targetTracking or stepScaling")
		case len(kinds) != 1 && predictive:
			v.errorf(f, "set exactly one of targetTracking, stepScaling and predictiveScaling")
		case len(kinds) != 1:
			v.errorf(f, "set exactly one of targetTracking and stepScaling")
		case p.PredictiveScaling != nil:
			v.predictive(f+".predictiveScaling", p.PredictiveScaling)
		case p.TargetTracking != nil:
			tt := p.TargetTracking
			if (tt.PredefinedMetric == "") == (tt.CustomMetric == nil) {
				v.errorf(f+".targetTracking", "set exactly one of predefinedMetric and customMetric")
			}
			if tt.PredefinedMetric == "ALBRequestCountPerTarget" && tt.ResourceLabel == "" {
				v.errorf(f+".targetTracking.resourceLabel", "ALBRequestCountPerTarget needs resourceLabel (app/<lb>/<id>/targetgroup/<tg>/<id>)")
			}
		}
	}
}

func (v *validator) scheduledActions(field string, actions []ScheduledAction) {
	for i, a := range actions {
		f := strictyaml.JoinIndex(field, i)
		if !strings.HasPrefix(a.Schedule, "at(") && !strings.HasPrefix(a.Schedule, "rate(") && !strings.HasPrefix(a.Schedule, "cron(") {
			v.errorf(f+".schedule", "%q is not a schedule: write at(yyyy-mm-ddThh:mm:ss), rate(<n> <unit>) or cron(<fields>)", a.Schedule)
		}
		if a.MinCapacity != nil && a.MaxCapacity != nil && *a.MinCapacity > *a.MaxCapacity {
			v.errorf(f+".minCapacity", "minCapacity %d is above maxCapacity %d", *a.MinCapacity, *a.MaxCapacity)
		}
	}
}

func (v *validator) autoScalingGroup(field string, g *AutoScalingGroupTarget) {
	if g.MinSize > g.MaxSize {
		v.errorf(field+".minSize", "minSize %d is above maxSize %d", g.MinSize, g.MaxSize)
	}
	if d := g.DesiredCapacity; d != nil && (*d < g.MinSize || *d > g.MaxSize) {
		v.errorf(field+".desiredCapacity", "desiredCapacity %d is outside minSize %d and maxSize %d", *d, g.MinSize, g.MaxSize)
	}
	if g.HealthCheckType == "ELB" && len(g.TargetGroupArns) == 0 {
		v.errorf(field+".healthCheckType", "healthCheckType ELB needs targetGroupArns")
	}
	v.policies(field+".scalingPolicies", g.ScalingPolicies, true)
	v.traffic(field+".traffic", g.Traffic)
	v.groupExtras(field, g)
}

// traffic checks a listener and target group pair.
func (v *validator) traffic(field string, tr *ALBTraffic) {
	if tr == nil {
		return
	}
	if (tr.ListenerArn == "") == (tr.ListenerRuleArn == "") {
		v.errorf(field, "set exactly one of listenerArn and listenerRuleArn")
	}
	if tr.StableTargetGroupArn != "" && tr.StableTargetGroupArn == tr.CanaryTargetGroupArn {
		v.errorf(field+".canaryTargetGroupArn", "the canary target group must differ from the stable one")
	}
}

func (v *validator) environments(envs []Environment, targets map[string]*Target) {
	seen := map[string]bool{}
	for i := range envs {
		e := &envs[i]
		field := strictyaml.JoinIndex("spec.environments", i)
		v.dnsName(field+".name", e.Name)
		if seen[e.Name] && e.Name != "" {
			v.errorf(field+".name", "environment name %q is used twice; environment names must be unique", e.Name)
		}
		seen[e.Name] = true
		for k := range e.Variables {
			v.variableName(strictyaml.JoinKey(field+".variables", k), k)
		}
		included := v.envTargets(field, e, targets)
		v.placement(field, e, included)
		v.strategy(field+".strategy", e.Strategy, included)
		v.checks(field+".verify", e.Verify)
		v.approval(field+".approval", e.Approval)
		if e.RollbackTimeout != nil && e.RollbackTimeout.Duration <= 0 {
			v.errorf(field+".rollbackTimeout", "rollbackTimeout must be above zero")
		}
	}
}

// envTargets resolves the targets an environment deploys.
func (v *validator) envTargets(field string, e *Environment, targets map[string]*Target) []*Target {
	if len(e.Targets) == 0 || len(targets) == 0 {
		return v.ordered
	}
	var out []*Target
	seen := map[string]bool{}
	for j, name := range e.Targets {
		f := strictyaml.JoinIndex(field+".targets", j)
		t, ok := targets[name]
		switch {
		case !ok:
			v.errorf(f, "target %q is not defined under spec.targets%s", name, known(targets))
		case seen[name]:
			v.errorf(f, "target %q is listed twice", name)
		default:
			out = append(out, t)
		}
		seen[name] = true
	}
	return out
}

func (v *validator) placement(field string, e *Environment, targets []*Target) {
	var aws, kube string
	for _, t := range targets {
		switch p := t.Platform(); {
		case p.OnAWS():
			aws = t.Name
		case p == PlatformKubernetes:
			kube = t.Name
		}
	}
	if aws != "" && e.AWS == nil {
		v.errorf(field+".aws", "environment %q deploys AWS target %q but names no AWS account; add aws.account (an account name from the agent configuration)", e.Name, aws)
	}
	if kube != "" && e.Kubernetes == nil {
		v.errorf(field+".kubernetes", "environment %q deploys Kubernetes target %q but names no cluster; add kubernetes.cluster (a cluster name from the agent configuration)", e.Name, kube)
	}
	if ns := e.Kubernetes; ns != nil && ns.Namespace != "" {
		v.dnsName(field+".kubernetes.namespace", ns.Namespace)
	}
}

func (v *validator) strategy(field string, s *Strategy, targets []*Target) {
	kind := s.Kind()
	if kind == StrategyUnknown {
		v.errorf(field, "set at most one of rolling, blueGreen and canary")
		return
	}
	for _, t := range targets {
		v.strategyFits(field, kind, t)
	}
	if kind == StrategyCanary {
		v.linear(field+".canary", s.Canary)
		v.canary(field+".canary.steps", s.Canary.Steps)
	}
	if kind == StrategyRolling && s != nil && s.Rolling != nil && len(s.Rolling.Steps) > 0 {
		v.rollingSteps(field+".rolling.steps", s.Rolling.Steps, targets)
	}
}

// rollingSteps checks a rolling update's checkpoints: steps as a canary's,
// whole percentages, and every target's platform able to stop its rolling
// update at checkpoints.
func (v *validator) rollingSteps(field string, steps []CanaryStep, targets []*Target) {
	v.canary(field, steps)
	for i := range steps {
		if w := steps[i].SetWeight; w != nil && *w != Percent(math.Trunc(float64(*w))) {
			v.errorf(strictyaml.JoinIndex(field, i)+".setWeight", "weight %v is not a whole percentage, as instance refresh checkpoints are; round it", *w)
		}
	}
	if !v.checked {
		return
	}
	for _, t := range targets {
		if c := v.platforms.Of(t.Platform()); c != nil && !c.Checkpoints {
			v.errorf(field, "target %q is %s, whose rolling update cannot stop at checkpoints; remove strategy.rolling.steps or deploy the target from another environment", t.Name, c.Noun)
		}
	}
}

// strategyFits checks, by the declaration of its platform, that a target
// can be deployed with the strategy.
func (v *validator) strategyFits(field string, kind StrategyKind, t *Target) {
	c := v.platforms.Of(t.Platform())
	if !v.checked || c == nil {
		return // unchecked, or reported by declared
	}
	if err := c.check(t, kind); err != nil {
		v.errorf(field+"."+kind.String(), "target %q %v", t.Name, err)
	}
}

// linear checks a canary's linear shorthand, and that the canary has
// steps or linear, not both.
func (v *validator) linear(field string, c *Canary) {
	l := c.Linear
	switch {
	case l == nil && len(c.Steps) == 0:
		v.errorf(field, "set steps, or linear: {stepWeight: 10, interval: 1m}")
		return
	case l == nil:
		return
	case !c.expanded && len(c.Steps) > 0:
		v.errorf(field+".linear", "set steps or linear, not both: linear stands for setWeight and pause steps")
	}
	if l.StepWeight < 1 || l.StepWeight > 99 {
		v.errorf(field+".linear.stepWeight", "%v is not a step weight: give 1 to 99 (percent added at each step)", l.StepWeight)
	}
	if l.Interval.Duration <= 0 {
		v.errorf(field+".linear.interval", "the interval between steps must be above zero, such as 1m")
	}
}

func (v *validator) canary(field string, steps []CanaryStep) {
	last := Percent(0)
	for i := range steps {
		s := &steps[i]
		f := strictyaml.JoinIndex(field, i)
		switch s.Kind() {
		case CanaryStepUnknown:
			v.errorf(f, "set exactly one of setWeight, pause, analysis and approval")
		case CanaryStepSetWeight:
			w := *s.SetWeight
			switch {
			case w == 0:
				v.errorf(f+".setWeight", "weight must be above 0")
			case w <= last:
				v.errorf(f+".setWeight", "weight %v does not increase: the previous setWeight is %v; weights must increase from step to step", w, last)
			}
			last = max(last, w)
		case CanaryStepPause:
			if s.Pause.Duration.Duration <= 0 {
				v.errorf(f+".pause.duration", "a pause needs a duration above zero")
			}
		case CanaryStepAnalysis:
			v.checks(f+".analysis.checks", s.Analysis.Checks)
		case CanaryStepApproval:
			v.approval(f+".approval", s.Approval)
		}
	}
}

func (v *validator) checks(field string, checks []Check) {
	for i := range checks {
		v.check(strictyaml.JoinIndex(field, i), &checks[i])
	}
}

func (v *validator) check(field string, c *Check) {
	if c.Interval != nil && c.Interval.Duration <= 0 {
		v.errorf(field+".interval", "interval must be above zero")
	}
	switch c.Kind() {
	case CheckUnknown:
		v.errorf(field, "set exactly one of http, cloudWatch, alarm and prometheus")
	case CheckHTTP:
		v.httpCheck(field+".http", c.HTTP)
	case CheckCloudWatch:
		v.cloudWatch(field+".cloudWatch", c.CloudWatch)
	case CheckPrometheus:
		v.threshold(field+".prometheus.threshold", c.Prometheus.Threshold)
	}
}

func (v *validator) httpCheck(field string, h *HTTPCheck) {
	for j, code := range h.ExpectStatus {
		if code < 100 || code > 599 {
			v.errorf(strictyaml.JoinIndex(field+".expectStatus", j), "%d is not an HTTP status code (100-599)", code)
		}
	}
	if strings.ContainsAny(h.Method, " \t/") || h.Method != strings.ToUpper(h.Method) {
		v.errorf(field+".method", "%q is not an HTTP method such as GET or POST", h.Method)
	}
}

func (v *validator) cloudWatch(field string, cw *CloudWatchCheck) {
	switch {
	case (cw.Metric == nil) == (cw.Expression == ""):
		v.errorf(field, "set exactly one of metric and expression")
	case cw.Expression != "" && len(cw.Metrics) == 0:
		v.errorf(field+".metrics", "an expression needs the metrics it refers to, by id")
	case cw.Metric != nil && len(cw.Metrics) > 0:
		v.errorf(field+".metrics", "metrics are only used with expression; remove them or use expression")
	}
	for id := range cw.Metrics {
		if !metricIDRE.MatchString(id) {
			v.errorf(strictyaml.JoinKey(field+".metrics", id), "metric id %q must start with a lowercase letter, then letters, digits or '_'", id)
		}
	}
	v.threshold(field+".threshold", cw.Threshold)
}

func (v *validator) threshold(field string, t Threshold) {
	if t.Min == nil && t.Max == nil {
		v.errorf(field, "set min, max or both")
	}
	if t.Min != nil && t.Max != nil && *t.Min > *t.Max {
		v.errorf(field+".min", "min %v is above max %v", *t.Min, *t.Max)
	}
}

func (v *validator) approval(field string, a *Approval) {
	if a == nil {
		return
	}
	if a.Reviews < 1 {
		v.errorf(field+".reviews", "reviews must be at least 1")
	}
	for j, team := range a.From.Teams {
		if !teamRE.MatchString(team) {
			v.errorf(strictyaml.JoinIndex(field+".from.teams", j), "%q is not a team as org/slug, such as acme/sre", team)
		}
	}
}

// fileProblem reports a problem with a file a target names.
func fileProblem(doc *strictyaml.Document, field string, err error) *strictyaml.Error {
	return doc.Errorf(field, "%s", fmt.Sprint(err))
}
