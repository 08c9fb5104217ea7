package spec

import "fmt"

// Check is one verification or analysis. Exactly one of HTTP, CloudWatch,
// Alarm and Prometheus is set. A check is measured every Interval for
// Duration (once when Duration is zero) and fails on the first failed
// measurement.
type Check struct {
	// Name labels the check in statuses and logs. Default: derived from
	// its kind and subject.
	Name string `json:"name,omitempty"`
	// HTTP requests a URL and checks the response.
	HTTP *HTTPCheck `json:"http,omitempty"`
	// CloudWatch queries a metric (or metric math) and compares it with a
	// threshold.
	CloudWatch *CloudWatchCheck `json:"cloudWatch,omitempty"`
	// Alarm fails when any of the named CloudWatch alarms is in ALARM.
	Alarm *AlarmCheck `json:"alarm,omitempty"`
	// Prometheus runs a PromQL query and compares it with a threshold.
	Prometheus *PrometheusCheck `json:"prometheus,omitempty"`
	// Interval is the time between measurements. Default 30s.
	Interval *Duration `json:"interval,omitempty"`
	// Duration is how long to keep measuring. Default 0: measure once.
	Duration *Duration `json:"duration,omitempty"`
	// Inconclusive is what a measurement without data means: fail
	// (default) or retry (measure again at the next interval, failing if
	// Duration ends without data).
	Inconclusive InconclusivePolicy `json:"inconclusive,omitempty" jsonschema:"enum=fail,enum=retry"`
}

// CheckKind names a kind of check.
type CheckKind int

// The kinds of check.
const (
	CheckUnknown CheckKind = iota
	CheckHTTP
	CheckCloudWatch
	CheckAlarm
	CheckPrometheus
)

// String returns the check's field name in the spec.
func (k CheckKind) String() string {
	switch k {
	case CheckHTTP:
		return "http"
	case CheckCloudWatch:
		return "cloudWatch"
	case CheckAlarm:
		return "alarm"
	case CheckPrometheus:
		return "prometheus"
	}
	return "unknown"
}

// Kind returns the check's kind, or CheckUnknown when none or several
// fields are set.
func (c *Check) Kind() CheckKind {
	kinds := oneOf(c.HTTP != nil, c.CloudWatch != nil, c.Alarm != nil, c.Prometheus != nil)
	if len(kinds) != 1 {
		return CheckUnknown
	}
	return CheckKind(kinds[0] + 1)
}

// InconclusivePolicy says what a measurement without data means.
type InconclusivePolicy string

// The inconclusive policies.
const (
	InconclusiveFail  InconclusivePolicy = "fail"
	InconclusiveRetry InconclusivePolicy = "retry"
)

// HTTPCheck requests a URL.
type HTTPCheck struct {
	// URL is requested; http or https.
	URL string `json:"url" jsonschema:"required"`
	// Method is the HTTP method. Default GET.
	Method string `json:"method,omitempty"`
	// Headers are sent with the request.
	Headers map[string]string `json:"headers,omitempty"`
	// Body is sent with the request.
	Body string `json:"body,omitempty"`
	// ExpectStatus lists the accepted status codes. Default [200].
	ExpectStatus []int `json:"expectStatus,omitempty"`
	// ExpectBody must appear in the response body, when set.
	ExpectBody string `json:"expectBody,omitempty"`
	// Timeout bounds each request. Default 10s.
	Timeout *Duration `json:"timeout,omitempty"`
}

// CloudWatchCheck compares a CloudWatch query with a threshold.
type CloudWatchCheck struct {
	// Metric is a single metric and statistic. Set this or Expression.
	Metric *Metric `json:"metric,omitempty"`
	// Expression is metric math over Metrics, e.g. "100 * errors / requests".
	Expression string `json:"expression,omitempty"`
	// Metrics are the named metrics Expression refers to.
	Metrics map[string]Metric `json:"metrics,omitempty"`
	// Window is the time range each measurement covers, ending now.
	// Default 5m.
	Window *Duration `json:"window,omitempty"`
	// Threshold is what the measured value must stay within.
	Threshold Threshold `json:"threshold" jsonschema:"required"`
}

// AlarmCheck watches CloudWatch alarms.
type AlarmCheck struct {
	// Names are the alarm names.
	Names []string `json:"names" jsonschema:"required,minItems=1"`
}

// PrometheusCheck compares a PromQL query with a threshold.
type PrometheusCheck struct {
	// Server is the name of a Prometheus server in the agent configuration,
	// or its URL.
	Server string `json:"server" jsonschema:"required"`
	// Query is an instant PromQL query returning one value.
	Query string `json:"query" jsonschema:"required"`
	// Threshold is what the value must stay within.
	Threshold Threshold `json:"threshold" jsonschema:"required"`
}

// Threshold bounds a measured value. At least one bound is set.
type Threshold struct {
	// Min fails values below it.
	Min *float64 `json:"min,omitempty"`
	// Max fails values above it.
	Max *float64 `json:"max,omitempty"`
}

// String says the bounds for people: "[1, 5]", "min 1", "max 5", or "no
// bounds".
func (t Threshold) String() string {
	switch {
	case t.Min != nil && t.Max != nil:
		return fmt.Sprintf("[%g, %g]", *t.Min, *t.Max)
	case t.Min != nil:
		return fmt.Sprintf("min %g", *t.Min)
	case t.Max != nil:
		return fmt.Sprintf("max %g", *t.Max)
	}
	return "no bounds"
}

// Approval is an approval rule: enough approving pull-request reviews from
// the right people.
type Approval struct {
	// Reviews is the number of approving reviews required. Default 1.
	Reviews int `json:"reviews,omitempty" jsonschema:"minimum=1"`
	// From says whose approvals count. Default: anyone with write
	// permission on the repository. The pull request author's own approval
	// never counts.
	From *Approvers `json:"from,omitempty"`
	// AllowStaleReviews counts approvals given before the pull request's
	// last push. Default false.
	AllowStaleReviews bool `json:"allowStaleReviews,omitempty"`
	// AllowLaterApproval lets a revision that reached the branch without an
	// approved pull request (a direct push) be approved afterwards by
	// reviews on a pull request containing it. Default false: such a
	// revision is held at the gate.
	AllowLaterApproval bool `json:"allowLaterApproval,omitempty"`
	// Timeout fails the rollout when approval has not come in time.
	// Default: wait until a newer revision supersedes it.
	Timeout *Duration `json:"timeout,omitempty"`
}

// Approvers lists who may approve. An approval counts when its author is
// in Users, is a member of one of Teams, or has at least Permission on the
// repository.
type Approvers struct {
	// Users are GitHub logins.
	Users []string `json:"users,omitempty"`
	// Teams are GitHub teams as org/slug.
	Teams []string `json:"teams,omitempty"`
	// Permission is the least repository permission that may approve: read,
	// triage, write, maintain or admin.
	Permission Permission `json:"permission,omitempty" jsonschema:"enum=read,enum=triage,enum=write,enum=maintain,enum=admin"`
}

// Permission is a GitHub repository permission level.
type Permission string

// The permission levels, from least to most.
const (
	PermissionRead     Permission = "read"
	PermissionTriage   Permission = "triage"
	PermissionWrite    Permission = "write"
	PermissionMaintain Permission = "maintain"
	PermissionAdmin    Permission = "admin"
)

// Rank orders permission levels: 1 for read up to 5 for admin, 0 when
// unknown.
func (p Permission) Rank() int {
	switch p {
	case PermissionRead:
		return 1
	case PermissionTriage:
		return 2
	case PermissionWrite:
		return 3
	case PermissionMaintain:
		return 4
	case PermissionAdmin:
		return 5
	}
	return 0
}
