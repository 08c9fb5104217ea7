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
	// Tags are added to the group and propagated to instances.
	Tags map[string]string `json:"tags,omitempty"`
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
}

// InstanceRefresh tunes the replacement of instances.
type InstanceRefresh struct {
	// MinHealthyPercentage keeps this share of capacity in service. Default 90.
	MinHealthyPercentage *Percent `json:"minHealthyPercentage,omitempty"`
	// InstanceWarmup is the time a new instance needs before it counts as
	// healthy.
	InstanceWarmup *Duration `json:"instanceWarmup,omitempty"`
}
