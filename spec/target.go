package spec

// Target is one deployable unit of an application. Exactly one of ECS,
// Lambda, Kubernetes and AutoScalingGroup is set.
type Target struct {
	// Name identifies the target within the application, e.g. "web".
	Name string `json:"name" jsonschema:"required,pattern=^[a-z0-9]([-a-z0-9]*[a-z0-9])?$,maxLength=63"`
	// ECS deploys an ECS service (Fargate or EC2) from a task definition file
	// and a service file.
	ECS *ECSTarget `json:"ecs,omitempty"`
	// Lambda deploys a Lambda function and moves an alias to the new version.
	Lambda *LambdaTarget `json:"lambda,omitempty"`
	// Kubernetes applies a folder of manifests (plain YAML or a kustomization).
	Kubernetes *KubernetesTarget `json:"kubernetes,omitempty"`
	// AutoScalingGroup deploys EC2 instances from a launch template behind
	// load balancer target groups.
	AutoScalingGroup *AutoScalingGroupTarget `json:"autoScalingGroup,omitempty"`
}

// Platform tells which kind of infrastructure a target deploys to.
type Platform int

// The platforms Jibe deploys to.
const (
	PlatformUnknown Platform = iota
	PlatformECS
	PlatformLambda
	PlatformKubernetes
	PlatformAutoScalingGroup
)

// String returns the platform's field name in the spec.
func (p Platform) String() string {
	switch p {
	case PlatformECS:
		return "ecs"
	case PlatformLambda:
		return "lambda"
	case PlatformKubernetes:
		return "kubernetes"
	case PlatformAutoScalingGroup:
		return "autoScalingGroup"
	}
	return "unknown"
}

// OnAWS reports whether the platform is an AWS service, which needs an AWS
// account in each environment.
func (p Platform) OnAWS() bool {
	return p == PlatformECS || p == PlatformLambda || p == PlatformAutoScalingGroup
}

// Platform returns the target's platform, or PlatformUnknown when none or
// several of its platform fields are set.
func (t *Target) Platform() Platform {
	kinds := oneOf(t.ECS != nil, t.Lambda != nil, t.Kubernetes != nil, t.AutoScalingGroup != nil)
	if len(kinds) != 1 {
		return PlatformUnknown
	}
	return Platform(kinds[0] + 1)
}

// ECSTarget deploys one ECS service.
type ECSTarget struct {
	// TaskDefinition is the path, relative to the application's folder, of a
	// task definition file in the shape of ECS RegisterTaskDefinition (as
	// written by `aws ecs describe-task-definition`, without the fields ECS
	// sets). Placeholders are resolved in it.
	TaskDefinition string `json:"taskDefinition" jsonschema:"required"`
	// Service is the path of a service file in the shape of ECS CreateService.
	// Placeholders are resolved in it.
	Service string `json:"service" jsonschema:"required"`
	// AutoScaling is the service's Application Auto Scaling target and
	// policies. When omitted, the policies of the running service are kept
	// (and carried over to a replacement service), and Jibe leaves
	// desiredCount to the autoscaler once one is registered.
	AutoScaling *ECSAutoScaling `json:"autoScaling,omitempty"`
	// Traffic names the listener and the pair of target groups that
	// blue/green and canary strategies shift traffic between. Required for
	// those strategies. With rolling, a listener (or rule) that forwards to
	// neither of the pair, such as a path a Lambda function served, is
	// taken over: all of it goes to the stable target group once every
	// target of that group is healthy, and the listener is tagged
	// jibe.dev/forwarded-before with what it forwarded to. A failed first
	// deploy hands it back before the service is removed; deleting the
	// service hands it back only if that still exists and is healthy.
	Traffic *ALBTraffic `json:"traffic,omitempty"`
}

// ALBTraffic is the Application Load Balancer wiring used to shift
// traffic between the stable and the new version of a target: a listener
// (or one of its rules) whose forward action weights a pair of target
// groups. Nothing in it is specific to ECS.
type ALBTraffic struct {
	// ListenerArn is the ALB listener whose default action forwards to the
	// target groups. Set this or ListenerRuleArn.
	ListenerArn string `json:"listenerArn,omitempty"`
	// ListenerRuleArn is a listener rule whose forward action is shifted
	// instead of the listener's default action.
	ListenerRuleArn string `json:"listenerRuleArn,omitempty"`
	// StableTargetGroupArn receives all traffic outside a rollout (blue).
	StableTargetGroupArn string `json:"stableTargetGroupArn" jsonschema:"required"`
	// CanaryTargetGroupArn receives the new version's share during a rollout
	// (green).
	CanaryTargetGroupArn string `json:"canaryTargetGroupArn" jsonschema:"required"`
}

// ECSAutoScaling is an Application Auto Scaling target with its policies.
type ECSAutoScaling struct {
	// MinCapacity is the fewest tasks the autoscaler may set.
	MinCapacity int32 `json:"minCapacity" jsonschema:"required,minimum=0"`
	// MaxCapacity is the most tasks the autoscaler may set.
	MaxCapacity int32 `json:"maxCapacity" jsonschema:"required,minimum=1"`
	// Policies are the scaling policies.
	Policies []ScalingPolicy `json:"policies,omitempty"`
	// ScheduledActions change capacity on a schedule.
	ScheduledActions []ScheduledAction `json:"scheduledActions,omitempty"`
}

// ScalingPolicy is one scaling policy. Exactly one of TargetTracking,
// StepScaling and PredictiveScaling is set.
type ScalingPolicy struct {
	// Name is the policy name, unique within the target.
	Name string `json:"name" jsonschema:"required"`
	// TargetTracking keeps a metric at a target value.
	TargetTracking *TargetTracking `json:"targetTracking,omitempty"`
	// StepScaling adjusts capacity in steps when an alarm fires.
	StepScaling *StepScaling `json:"stepScaling,omitempty"`
	// PredictiveScaling forecasts load from its history and scales ahead
	// of it. Auto Scaling groups only.
	PredictiveScaling *PredictiveScaling `json:"predictiveScaling,omitempty"`
}

// PredictiveScaling is a predictive scaling policy of an Auto Scaling
// group. Its metrics are exactly one of: predefinedMetricPair;
// predefinedLoadMetric with predefinedScalingMetric; customizedLoadMetric
// with customizedScalingMetric (and optionally customizedCapacityMetric).
type PredictiveScaling struct {
	// TargetValue is the value of the scaling metric to keep instances
	// at, e.g. 50 (% CPU).
	TargetValue float64 `json:"targetValue" jsonschema:"required,exclusiveMinimum=0"`
	// PredefinedMetricPair is a load and scaling metric pair AWS defines.
	PredefinedMetricPair string `json:"predefinedMetricPair,omitempty" jsonschema:"enum=ASGCPUUtilization,enum=ASGNetworkIn,enum=ASGNetworkOut,enum=ALBRequestCount"`
	// PredefinedLoadMetric is the total load AWS forecasts.
	PredefinedLoadMetric string `json:"predefinedLoadMetric,omitempty" jsonschema:"enum=ASGTotalCPUUtilization,enum=ASGTotalNetworkIn,enum=ASGTotalNetworkOut,enum=ALBTargetGroupRequestCount"`
	// PredefinedScalingMetric is the per-instance metric targetValue
	// applies to.
	PredefinedScalingMetric string `json:"predefinedScalingMetric,omitempty" jsonschema:"enum=ASGAverageCPUUtilization,enum=ASGAverageNetworkIn,enum=ASGAverageNetworkOut,enum=ALBRequestCountPerTarget"`
	// ResourceLabel identifies the target group of the ALB metrics
	// (app/<lb>/<id>/targetgroup/<tg>/<id>).
	ResourceLabel string `json:"resourceLabel,omitempty"`
	// CustomizedLoadMetric is a CloudWatch metric of the total load.
	CustomizedLoadMetric *Metric `json:"customizedLoadMetric,omitempty"`
	// CustomizedScalingMetric is a CloudWatch metric per instance that
	// targetValue applies to.
	CustomizedScalingMetric *Metric `json:"customizedScalingMetric,omitempty"`
	// CustomizedCapacityMetric is a CloudWatch metric of the group's
	// capacity, when the load metric needs one.
	CustomizedCapacityMetric *Metric `json:"customizedCapacityMetric,omitempty"`
	// Mode is ForecastOnly (the default: forecasts, no scaling) or
	// ForecastAndScale.
	Mode string `json:"mode,omitempty" jsonschema:"enum=ForecastOnly,enum=ForecastAndScale"`
	// SchedulingBufferTime launches instances this long before the
	// forecast needs them, up to 1h.
	SchedulingBufferTime *Duration `json:"schedulingBufferTime,omitempty"`
	// MaxCapacityBreachBehavior is HonorMaxCapacity (the default) or
	// IncreaseMaxCapacity, which lets the forecast raise maxSize.
	MaxCapacityBreachBehavior string `json:"maxCapacityBreachBehavior,omitempty" jsonschema:"enum=HonorMaxCapacity,enum=IncreaseMaxCapacity"`
	// MaxCapacityBuffer is how far above the forecast maxSize may be
	// raised, in percent (IncreaseMaxCapacity only).
	MaxCapacityBuffer *int32 `json:"maxCapacityBuffer,omitempty" jsonschema:"minimum=0,maximum=100"`
}

// TargetTracking keeps a metric near a target value.
type TargetTracking struct {
	// TargetValue is the value to keep the metric at.
	TargetValue float64 `json:"targetValue" jsonschema:"required"`
	// PredefinedMetric is a metric AWS defines, e.g.
	// ECSServiceAverageCPUUtilization, ECSServiceAverageMemoryUtilization,
	// ALBRequestCountPerTarget or ASGAverageCPUUtilization. Set this or
	// CustomMetric.
	PredefinedMetric string `json:"predefinedMetric,omitempty"`
	// ResourceLabel identifies the target group for ALBRequestCountPerTarget.
	ResourceLabel string `json:"resourceLabel,omitempty"`
	// CustomMetric is a CloudWatch metric to track instead.
	CustomMetric *Metric `json:"customMetric,omitempty"`
	// ScaleInCooldown is the wait after a scale-in before another.
	ScaleInCooldown *Duration `json:"scaleInCooldown,omitempty"`
	// ScaleOutCooldown is the wait after a scale-out before another.
	ScaleOutCooldown *Duration `json:"scaleOutCooldown,omitempty"`
	// DisableScaleIn stops the policy from removing capacity.
	DisableScaleIn bool `json:"disableScaleIn,omitempty"`
}

// StepScaling adjusts capacity by steps of an alarm's breach.
type StepScaling struct {
	// AdjustmentType is ChangeInCapacity, ExactCapacity or
	// PercentChangeInCapacity.
	AdjustmentType string `json:"adjustmentType" jsonschema:"required,enum=ChangeInCapacity,enum=ExactCapacity,enum=PercentChangeInCapacity"`
	// Cooldown is the wait after an adjustment before another.
	Cooldown *Duration `json:"cooldown,omitempty"`
	// MetricAggregationType is Average, Minimum or Maximum.
	MetricAggregationType string `json:"metricAggregationType,omitempty" jsonschema:"enum=Average,enum=Minimum,enum=Maximum"`
	// Steps map ranges of the breach to adjustments.
	Steps []ScalingStep `json:"steps" jsonschema:"required,minItems=1"`
}

// ScalingStep is one range of a step scaling policy.
type ScalingStep struct {
	// LowerBound is the lower bound of the breach (inclusive); omit for
	// negative infinity.
	LowerBound *float64 `json:"lowerBound,omitempty"`
	// UpperBound is the upper bound of the breach (exclusive); omit for
	// infinity.
	UpperBound *float64 `json:"upperBound,omitempty"`
	// Adjustment is the capacity change for this range.
	Adjustment int32 `json:"adjustment"`
}

// ScheduledAction changes capacity bounds on a schedule.
type ScheduledAction struct {
	// Name is the action name, unique within the target.
	Name string `json:"name" jsonschema:"required"`
	// Schedule is at(...), rate(...) or cron(...), as Application Auto
	// Scaling accepts.
	Schedule string `json:"schedule" jsonschema:"required"`
	// Timezone is an IANA time zone for cron schedules; default UTC.
	Timezone string `json:"timezone,omitempty"`
	// MinCapacity is the new minimum, if set.
	MinCapacity *int32 `json:"minCapacity,omitempty"`
	// MaxCapacity is the new maximum, if set.
	MaxCapacity *int32 `json:"maxCapacity,omitempty"`
}

// Metric is a CloudWatch metric with a statistic.
type Metric struct {
	// Namespace is the metric namespace, e.g. AWS/ApplicationELB.
	Namespace string `json:"namespace" jsonschema:"required"`
	// Name is the metric name, e.g. HTTPCode_Target_5XX_Count.
	Name string `json:"name" jsonschema:"required"`
	// Dimensions select the metric's time series.
	Dimensions map[string]string `json:"dimensions,omitempty"`
	// Statistic is Average, Sum, Minimum, Maximum, SampleCount or a
	// percentile such as p99.
	Statistic string `json:"statistic" jsonschema:"required"`
	// Period is the length of each datapoint; default 1m.
	Period *Duration `json:"period,omitempty"`
	// Unit is the metric's unit, when it must be named.
	Unit string `json:"unit,omitempty"`
}
