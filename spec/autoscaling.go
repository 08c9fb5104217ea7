package spec

// AutoScalingGroupTarget deploys EC2 instances through an Auto Scaling group.
type AutoScalingGroupTarget struct {
	// Name is the Auto Scaling group's name.
	Name string `json:"name" jsonschema:"required"`
	// LaunchTemplate is the instances' launch template data. Each change
	// creates a new launch template version and an instance refresh.
	LaunchTemplate LaunchTemplate `json:"launchTemplate" jsonschema:"required"`
	// MinSize is the fewest instances.
	MinSize int32 `json:"minSize" jsonschema:"minimum=0"`
	// MaxSize is the most instances.
	MaxSize int32 `json:"maxSize" jsonschema:"required,minimum=1"`
	// DesiredCapacity is the instances to run; leave it out when scaling
	// policies manage it.
	DesiredCapacity *int32 `json:"desiredCapacity,omitempty"`
	// Subnets are the subnet IDs instances are launched in.
	Subnets []string `json:"subnets" jsonschema:"required,minItems=1"`
	// TargetGroupArns are the load balancer target groups instances join.
	TargetGroupArns []string `json:"targetGroupArns,omitempty"`
	// Traffic is the listener (or rule) and target group pair a canary
	// shifts weights on: the new group runs in the canary target group
	// until promotion. The stable target group must be one of
	// targetGroupArns. Needed for the canary strategy only.
	Traffic *ALBTraffic `json:"traffic,omitempty"`
	// HealthCheckType is EC2 or ELB; default ELB when target groups are set.
	HealthCheckType string `json:"healthCheckType,omitempty" jsonschema:"enum=EC2,enum=ELB"`
	// HealthCheckGracePeriod is the time after launch before health checks
	// count. Default 5m.
	HealthCheckGracePeriod *Duration `json:"healthCheckGracePeriod,omitempty"`
	// ScalingPolicies are the group's scaling policies.
	ScalingPolicies []ScalingPolicy `json:"scalingPolicies,omitempty"`
	// InstanceRefresh tunes how instances are replaced by a rolling
	// strategy.
	InstanceRefresh *InstanceRefresh `json:"instanceRefresh,omitempty"`
	// TerminationPolicies decide which instances a scale-in terminates
	// first, in order: Default, AllocationStrategy,
	// OldestLaunchTemplate, OldestLaunchConfiguration,
	// ClosestToNextInstanceHour, NewestInstance or OldestInstance.
	TerminationPolicies []string `json:"terminationPolicies,omitempty" jsonschema:"enum=Default,enum=AllocationStrategy,enum=OldestLaunchTemplate,enum=OldestLaunchConfiguration,enum=ClosestToNextInstanceHour,enum=NewestInstance,enum=OldestInstance"`
	// ScheduledActions change the group's sizes on a schedule. When the
	// spec declares any, it owns them (others are deleted); red/black
	// copies them to the new group, or the old group's when the spec
	// declares none.
	ScheduledActions []GroupScheduledAction `json:"scheduledActions,omitempty"`
	// LifecycleHooks hold instances in Pending:Wait (launching) or
	// Terminating:Wait until they are completed or time out. Declared
	// ones are owned as scheduled actions are, and a red/black group is
	// created with them, so its first instances wait too.
	LifecycleHooks []LifecycleHook `json:"lifecycleHooks,omitempty"`
	// MixedInstancesPolicy launches the instances as several instance
	// types, on demand and spot: the group then names the launch template
	// in the policy, not as its plain launch template (AWS refuses both),
	// and the types override launchTemplate.instanceType. Red/black
	// groups are created with it.
	MixedInstancesPolicy *MixedInstancesPolicy `json:"mixedInstancesPolicy,omitempty"`
	// WarmPool keeps pre-initialized instances beside the group, which
	// scale-outs take from; red/black groups are created with it, and it
	// is deleted with the group it belongs to.
	WarmPool *WarmPool `json:"warmPool,omitempty"`
	// Tags are added to the group and propagated to instances.
	Tags map[string]string `json:"tags,omitempty"`
}

// MixedInstancesPolicy is the instance types and purchase options of a
// group.
type MixedInstancesPolicy struct {
	// Overrides are the instance types the group launches, in priority
	// order: 1 to 40, each once.
	Overrides []InstanceTypeOverride `json:"overrides" jsonschema:"required,minItems=1,maxItems=40"`
	// InstancesDistribution splits the capacity between on-demand and
	// spot instances; AWS's defaults (all on demand) when left out.
	InstancesDistribution *InstancesDistribution `json:"instancesDistribution,omitempty"`
}

// InstanceTypeOverride is one instance type of a mixed instances policy.
type InstanceTypeOverride struct {
	// InstanceType is e.g. m5.large.
	InstanceType string `json:"instanceType" jsonschema:"required"`
	// WeightedCapacity is the capacity units an instance of the type
	// counts for, 1 to 999; set it on every override or none.
	WeightedCapacity int32 `json:"weightedCapacity,omitempty" jsonschema:"minimum=1,maximum=999"`
}

// InstancesDistribution splits a group's capacity between on-demand and
// spot instances.
type InstancesDistribution struct {
	// OnDemandBaseCapacity is the capacity always on demand. Default 0.
	OnDemandBaseCapacity *int32 `json:"onDemandBaseCapacity,omitempty" jsonschema:"minimum=0"`
	// OnDemandPercentageAboveBaseCapacity is the share of capacity above
	// the base that is on demand (the rest is spot). Default 100.
	OnDemandPercentageAboveBaseCapacity *int32 `json:"onDemandPercentageAboveBaseCapacity,omitempty" jsonschema:"minimum=0,maximum=100"`
	// OnDemandAllocationStrategy is prioritized (the overrides' order,
	// the default) or lowest-price.
	OnDemandAllocationStrategy string `json:"onDemandAllocationStrategy,omitempty" jsonschema:"enum=prioritized,enum=lowest-price"`
	// SpotAllocationStrategy chooses the spot pools. Default lowest-price.
	SpotAllocationStrategy string `json:"spotAllocationStrategy,omitempty" jsonschema:"enum=lowest-price,enum=capacity-optimized,enum=capacity-optimized-prioritized,enum=price-capacity-optimized"`
	// SpotInstancePools is how many of the cheapest pools lowest-price
	// spreads spot instances over, 1 to 20. Default 2.
	SpotInstancePools int32 `json:"spotInstancePools,omitempty" jsonschema:"minimum=1,maximum=20"`
}

// WarmPool is the warm pool of a group.
type WarmPool struct {
	// MinSize is the fewest instances the pool keeps. Default 0.
	MinSize int32 `json:"minSize,omitempty" jsonschema:"minimum=0"`
	// MaxGroupPreparedCapacity caps the group's instances plus the pool's;
	// the pool holds what is left of it. Default: the group's maxSize.
	MaxGroupPreparedCapacity *int32 `json:"maxGroupPreparedCapacity,omitempty" jsonschema:"minimum=-1"`
	// PoolState is the state pool instances wait in: Stopped (the
	// default), Running or Hibernated.
	PoolState string `json:"poolState,omitempty" jsonschema:"enum=Stopped,enum=Running,enum=Hibernated"`
	// ReuseOnScaleIn returns instances to the pool at scale-in instead of
	// terminating them (InstanceReusePolicy).
	ReuseOnScaleIn bool `json:"reuseOnScaleIn,omitempty"`
}

// LaunchTemplate is the launch template data of an Auto Scaling group.
type LaunchTemplate struct {
	// ImageID is the AMI, usually ${artifacts.<name>}.
	ImageID string `json:"imageId" jsonschema:"required"`
	// InstanceType is e.g. t3.small.
	InstanceType string `json:"instanceType" jsonschema:"required"`
	// UserData is the path of a file, relative to the application's folder,
	// passed to instances as user data. Placeholders are resolved in it.
	UserData string `json:"userData,omitempty"`
	// SecurityGroupIDs are the instances' security groups.
	SecurityGroupIDs []string `json:"securityGroupIds,omitempty"`
	// IAMInstanceProfile is an instance profile name or ARN.
	IAMInstanceProfile string `json:"iamInstanceProfile,omitempty"`
	// KeyName is an EC2 key pair.
	KeyName string `json:"keyName,omitempty"`
	// BlockDeviceMappings are the instances' volumes, by device name.
	BlockDeviceMappings []BlockDevice `json:"blockDeviceMappings,omitempty"`
	// MetadataOptions configure the instance metadata service (IMDS).
	MetadataOptions *MetadataOptions `json:"metadataOptions,omitempty"`
}

// BlockDevice is one volume of a launch template.
type BlockDevice struct {
	// DeviceName is e.g. /dev/xvda.
	DeviceName string `json:"deviceName" jsonschema:"required"`
	// EBS is the volume.
	EBS *EBSVolume `json:"ebs,omitempty"`
}

// EBSVolume is an EBS volume of a block device.
type EBSVolume struct {
	// VolumeSize is the size in GiB.
	VolumeSize int32 `json:"volumeSize,omitempty" jsonschema:"minimum=1,maximum=65536"`
	// VolumeType is gp2, gp3, io1, io2, st1, sc1 or standard.
	VolumeType string `json:"volumeType,omitempty" jsonschema:"enum=gp2,enum=gp3,enum=io1,enum=io2,enum=st1,enum=sc1,enum=standard"`
	// IOPS is the provisioned IOPS (gp3, io1, io2).
	IOPS int32 `json:"iops,omitempty" jsonschema:"minimum=0"`
	// Throughput is the throughput in MiB/s (gp3).
	Throughput int32 `json:"throughput,omitempty" jsonschema:"minimum=0"`
	// Encrypted encrypts the volume.
	Encrypted bool `json:"encrypted,omitempty"`
	// KMSKeyID is the key that encrypts the volume.
	KMSKeyID string `json:"kmsKeyId,omitempty"`
	// DeleteOnTermination deletes the volume with the instance (EC2's
	// default: true).
	DeleteOnTermination *bool `json:"deleteOnTermination,omitempty"`
}

// MetadataOptions configure the instance metadata service.
type MetadataOptions struct {
	// HTTPTokens is required (IMDSv2 only) or optional.
	HTTPTokens string `json:"httpTokens,omitempty" jsonschema:"enum=required,enum=optional"`
	// HTTPEndpoint is enabled or disabled.
	HTTPEndpoint string `json:"httpEndpoint,omitempty" jsonschema:"enum=enabled,enum=disabled"`
	// HTTPPutResponseHopLimit is how many hops the metadata token may
	// travel (2 lets containers on the instance reach it).
	HTTPPutResponseHopLimit int32 `json:"httpPutResponseHopLimit,omitempty" jsonschema:"minimum=1,maximum=64"`
}

// GroupScheduledAction changes an Auto Scaling group's sizes once or on
// a recurring schedule.
type GroupScheduledAction struct {
	// Name is the action's name, unique within the group.
	Name string `json:"name" jsonschema:"required"`
	// Recurrence is a cron expression of five fields (minute hour
	// day-of-month month day-of-week), e.g. "0 8 * * 1-5".
	Recurrence string `json:"recurrence,omitempty"`
	// StartTime is when the action runs once (without recurrence) or
	// starts recurring, in RFC 3339.
	StartTime string `json:"startTime,omitempty"`
	// EndTime is when a recurring action stops, in RFC 3339.
	EndTime string `json:"endTime,omitempty"`
	// TimeZone is an IANA time zone for the recurrence; default UTC.
	TimeZone string `json:"timeZone,omitempty"`
	// MinSize is the new minimum, if set.
	MinSize *int32 `json:"minSize,omitempty" jsonschema:"minimum=0"`
	// MaxSize is the new maximum, if set.
	MaxSize *int32 `json:"maxSize,omitempty" jsonschema:"minimum=0"`
	// DesiredCapacity is the new desired capacity, if set.
	DesiredCapacity *int32 `json:"desiredCapacity,omitempty" jsonschema:"minimum=0"`
}

// LifecycleHook pauses instances at launch or termination.
type LifecycleHook struct {
	// Name is the hook's name, unique within the group.
	Name string `json:"name" jsonschema:"required"`
	// Transition is launching or terminating.
	Transition string `json:"transition" jsonschema:"required,enum=launching,enum=terminating"`
	// HeartbeatTimeout is how long an instance waits before the default
	// result applies: 30s to 2h. Default 1h.
	HeartbeatTimeout *Duration `json:"heartbeatTimeout,omitempty"`
	// DefaultResult is CONTINUE or ABANDON (an abandoned launching
	// instance is terminated). Default ABANDON.
	DefaultResult string `json:"defaultResult,omitempty" jsonschema:"enum=CONTINUE,enum=ABANDON"`
	// NotificationTargetARN is an SQS queue or SNS topic told of each
	// waiting instance.
	NotificationTargetARN string `json:"notificationTargetArn,omitempty"`
	// RoleARN lets Auto Scaling publish to the notification target.
	RoleARN string `json:"roleArn,omitempty"`
	// NotificationMetadata is passed along with each notification.
	NotificationMetadata string `json:"notificationMetadata,omitempty"`
}

// InstanceRefresh tunes the replacement of instances.
type InstanceRefresh struct {
	// MinHealthyPercentage keeps this share of capacity in service. Default 90.
	MinHealthyPercentage *Percent `json:"minHealthyPercentage,omitempty"`
	// InstanceWarmup is the time a new instance needs before it counts as
	// healthy.
	InstanceWarmup *Duration `json:"instanceWarmup,omitempty"`
}
