package spec

// This file holds the types of the ECS files an ECS target names. Their
// fields follow the ECS API's JSON names, so a task definition or service
// written for the AWS CLI or ecspresso can be used as it is.

// serverSet explains fields that AWS sets and that must not be in a file.
func serverSet(service, name string, fields ...string) string {
	for _, f := range fields {
		if f == name {
			return "this field is set by " + service + " and cannot be deployed; remove it (it appears in describe output)"
		}
	}
	return ""
}

// ECSTaskDefinition is the content of an ECS target's task definition file.
type ECSTaskDefinition struct {
	// Family is the task definition family; Jibe registers revisions in it.
	Family string `json:"family" jsonschema:"required"`
	// TaskRoleArn is the IAM role the containers assume.
	TaskRoleArn string `json:"taskRoleArn,omitempty"`
	// ExecutionRoleArn is the IAM role ECS uses to pull images and read
	// secrets.
	ExecutionRoleArn string `json:"executionRoleArn,omitempty"`
	// NetworkMode is bridge, host, awsvpc or none; Fargate needs awsvpc.
	NetworkMode string `json:"networkMode,omitempty" jsonschema:"enum=bridge,enum=host,enum=awsvpc,enum=none"`
	// ContainerDefinitions are the task's containers: at least one.
	ContainerDefinitions []ContainerDefinition `json:"containerDefinitions" jsonschema:"required,minItems=1"`
	// Volumes are the data volumes containers may mount.
	Volumes []Volume `json:"volumes,omitempty"`
	// PlacementConstraints restrict where tasks are placed (EC2 only).
	PlacementConstraints []PlacementConstraint `json:"placementConstraints,omitempty"`
	// RequiresCompatibilities lists launch types the definition must fit:
	// EC2, FARGATE, EXTERNAL.
	RequiresCompatibilities []string `json:"requiresCompatibilities,omitempty"`
	// CPU is the task's CPU units ("256", "1024") or vCPUs ("1 vCPU").
	CPU string `json:"cpu,omitempty"`
	// Memory is the task's memory in MiB ("512") or GB ("1 GB").
	Memory string `json:"memory,omitempty"`
	// Tags are added to the task definition (Jibe adds its own).
	Tags []Tag `json:"tags,omitempty"`
	// PidMode is host or task.
	PidMode string `json:"pidMode,omitempty"`
	// IpcMode is host, task or none.
	IpcMode string `json:"ipcMode,omitempty"`
	// ProxyConfiguration configures an App Mesh proxy.
	ProxyConfiguration *ProxyConfiguration `json:"proxyConfiguration,omitempty"`
	// EphemeralStorage sizes Fargate ephemeral storage.
	EphemeralStorage *EphemeralStorage `json:"ephemeralStorage,omitempty"`
	// RuntimePlatform selects CPU architecture and OS family.
	RuntimePlatform *RuntimePlatform `json:"runtimePlatform,omitempty"`
	// EnableFaultInjection turns on ECS fault injection for the task.
	EnableFaultInjection *bool `json:"enableFaultInjection,omitempty"`
}

// UnknownFieldHint explains fields of describe-task-definition output.
func (*ECSTaskDefinition) UnknownFieldHint(name string) string {
	return serverSet("ECS", name, "taskDefinitionArn", "revision", "status", "requiresAttributes",
		"compatibilities", "registeredAt", "registeredBy", "deregisteredAt")
}

// ContainerDefinition is one container of a task.
type ContainerDefinition struct {
	// Name is the container's name, unique in the task.
	Name string `json:"name" jsonschema:"required"`
	// Image is the image reference, usually ${artifacts.<name>}.
	Image string `json:"image" jsonschema:"required"`
	// RepositoryCredentials is a Secrets Manager secret for a private
	// registry.
	RepositoryCredentials *RepositoryCredentials `json:"repositoryCredentials,omitempty"`
	// CPU is the container's CPU units.
	CPU int32 `json:"cpu,omitempty"`
	// Memory is the hard memory limit in MiB.
	Memory *int32 `json:"memory,omitempty"`
	// MemoryReservation is the soft memory limit in MiB.
	MemoryReservation *int32 `json:"memoryReservation,omitempty"`
	// Links connect containers in bridge mode.
	Links []string `json:"links,omitempty"`
	// PortMappings expose container ports.
	PortMappings []PortMapping `json:"portMappings,omitempty"`
	// Essential stops the task when this container stops; default true.
	Essential *bool `json:"essential,omitempty"`
	// EntryPoint overrides the image's entry point.
	EntryPoint []string `json:"entryPoint,omitempty"`
	// Command overrides the image's command.
	Command []string `json:"command,omitempty"`
	// Environment sets environment variables.
	Environment []KeyValuePair `json:"environment,omitempty"`
	// EnvironmentFiles load environment variables from S3 files.
	EnvironmentFiles []EnvironmentFile `json:"environmentFiles,omitempty"`
	// MountPoints mount volumes into the container.
	MountPoints []MountPoint `json:"mountPoints,omitempty"`
	// VolumesFrom mounts the volumes of other containers.
	VolumesFrom []VolumeFrom `json:"volumesFrom,omitempty"`
	// LinuxParameters are Linux-specific settings.
	LinuxParameters *LinuxParameters `json:"linuxParameters,omitempty"`
	// Secrets inject Secrets Manager or SSM parameters as variables.
	Secrets []Secret `json:"secrets,omitempty"`
	// DependsOn orders container start-up.
	DependsOn []ContainerDependency `json:"dependsOn,omitempty"`
	// StartTimeout is how long to wait for dependencies, in seconds.
	StartTimeout *int32 `json:"startTimeout,omitempty"`
	// StopTimeout is how long to wait before killing the container, in
	// seconds.
	StopTimeout *int32 `json:"stopTimeout,omitempty"`
	// Hostname sets the container's hostname.
	Hostname string `json:"hostname,omitempty"`
	// User is the user (and group) the container runs as.
	User string `json:"user,omitempty"`
	// WorkingDirectory is the working directory of the command.
	WorkingDirectory string `json:"workingDirectory,omitempty"`
	// DisableNetworking turns networking off.
	DisableNetworking *bool `json:"disableNetworking,omitempty"`
	// Privileged gives the container root on the host (EC2 only).
	Privileged *bool `json:"privileged,omitempty"`
	// ReadonlyRootFilesystem makes the root file system read-only.
	ReadonlyRootFilesystem *bool `json:"readonlyRootFilesystem,omitempty"`
	// DNSServers are DNS servers for the container.
	DNSServers []string `json:"dnsServers,omitempty"`
	// DNSSearchDomains are DNS search domains for the container.
	DNSSearchDomains []string `json:"dnsSearchDomains,omitempty"`
	// ExtraHosts are added to /etc/hosts.
	ExtraHosts []HostEntry `json:"extraHosts,omitempty"`
	// DockerSecurityOptions are SELinux/AppArmor labels.
	DockerSecurityOptions []string `json:"dockerSecurityOptions,omitempty"`
	// Interactive keeps stdin open.
	Interactive *bool `json:"interactive,omitempty"`
	// PseudoTerminal allocates a TTY.
	PseudoTerminal *bool `json:"pseudoTerminal,omitempty"`
	// DockerLabels are labels on the container.
	DockerLabels map[string]string `json:"dockerLabels,omitempty"`
	// Ulimits set resource limits.
	Ulimits []Ulimit `json:"ulimits,omitempty"`
	// LogConfiguration sends the container's logs somewhere (awslogs,
	// awsfirelens, ...).
	LogConfiguration *LogConfiguration `json:"logConfiguration,omitempty"`
	// HealthCheck is the container's health check command.
	HealthCheck *ContainerHealthCheck `json:"healthCheck,omitempty"`
	// SystemControls set kernel parameters.
	SystemControls []SystemControl `json:"systemControls,omitempty"`
	// ResourceRequirements request GPUs or inference accelerators.
	ResourceRequirements []ResourceRequirement `json:"resourceRequirements,omitempty"`
	// FirelensConfiguration makes this container the FireLens log router.
	FirelensConfiguration *FirelensConfiguration `json:"firelensConfiguration,omitempty"`
	// RestartPolicy restarts the container in place when it exits.
	RestartPolicy *ContainerRestartPolicy `json:"restartPolicy,omitempty"`
	// VersionConsistency is enabled or disabled: whether ECS resolves the
	// image tag to a digest.
	VersionConsistency string `json:"versionConsistency,omitempty" jsonschema:"enum=enabled,enum=disabled"`
}

// RepositoryCredentials names a secret holding registry credentials.
type RepositoryCredentials struct {
	// CredentialsParameter is the secret's ARN.
	CredentialsParameter string `json:"credentialsParameter" jsonschema:"required"`
}

// PortMapping exposes a container port.
type PortMapping struct {
	// ContainerPort is the port in the container.
	ContainerPort *int32 `json:"containerPort,omitempty"`
	// HostPort is the port on the host (bridge/host mode).
	HostPort *int32 `json:"hostPort,omitempty"`
	// Protocol is tcp or udp.
	Protocol string `json:"protocol,omitempty" jsonschema:"enum=tcp,enum=udp"`
	// Name names the mapping for Service Connect.
	Name string `json:"name,omitempty"`
	// AppProtocol is http, http2 or grpc.
	AppProtocol string `json:"appProtocol,omitempty" jsonschema:"enum=http,enum=http2,enum=grpc"`
	// ContainerPortRange maps a range such as "8000-8010".
	ContainerPortRange string `json:"containerPortRange,omitempty"`
}

// KeyValuePair is an environment variable.
type KeyValuePair struct {
	// Name is the variable's name.
	Name string `json:"name" jsonschema:"required"`
	// Value is the variable's value.
	Value string `json:"value"`
}

// EnvironmentFile is an S3 file of environment variables.
type EnvironmentFile struct {
	// Value is the S3 object ARN.
	Value string `json:"value" jsonschema:"required"`
	// Type is s3.
	Type string `json:"type" jsonschema:"required,enum=s3"`
}

// MountPoint mounts a volume.
type MountPoint struct {
	// SourceVolume names a volume of the task.
	SourceVolume string `json:"sourceVolume" jsonschema:"required"`
	// ContainerPath is where it is mounted.
	ContainerPath string `json:"containerPath" jsonschema:"required"`
	// ReadOnly mounts it read-only.
	ReadOnly *bool `json:"readOnly,omitempty"`
}

// VolumeFrom mounts another container's volumes.
type VolumeFrom struct {
	// SourceContainer names the other container.
	SourceContainer string `json:"sourceContainer" jsonschema:"required"`
	// ReadOnly mounts them read-only.
	ReadOnly *bool `json:"readOnly,omitempty"`
}

// LinuxParameters are Linux-specific container settings.
type LinuxParameters struct {
	// Capabilities adds or drops Linux capabilities.
	Capabilities *KernelCapabilities `json:"capabilities,omitempty"`
	// InitProcessEnabled runs an init process that reaps zombies (needed by
	// ECS Exec).
	InitProcessEnabled *bool `json:"initProcessEnabled,omitempty"`
	// SharedMemorySize is /dev/shm's size in MiB.
	SharedMemorySize *int32 `json:"sharedMemorySize,omitempty"`
	// MaxSwap is the swap limit in MiB.
	MaxSwap *int32 `json:"maxSwap,omitempty"`
	// Swappiness tunes swapping (0-100).
	Swappiness *int32 `json:"swappiness,omitempty"`
	// Tmpfs mounts tmpfs file systems.
	Tmpfs []Tmpfs `json:"tmpfs,omitempty"`
}

// KernelCapabilities adds and drops capabilities.
type KernelCapabilities struct {
	// Add lists capabilities to add.
	Add []string `json:"add,omitempty"`
	// Drop lists capabilities to drop.
	Drop []string `json:"drop,omitempty"`
}

// Tmpfs is a tmpfs mount.
type Tmpfs struct {
	// ContainerPath is the mount path.
	ContainerPath string `json:"containerPath" jsonschema:"required"`
	// Size is the size in MiB.
	Size int32 `json:"size" jsonschema:"required"`
	// MountOptions are mount options.
	MountOptions []string `json:"mountOptions,omitempty"`
}

// Secret injects a secret as an environment variable or log option.
type Secret struct {
	// Name is the variable name.
	Name string `json:"name" jsonschema:"required"`
	// ValueFrom is the Secrets Manager or SSM Parameter Store ARN.
	ValueFrom string `json:"valueFrom" jsonschema:"required"`
}

// ContainerDependency orders start-up.
type ContainerDependency struct {
	// ContainerName names the container depended on.
	ContainerName string `json:"containerName" jsonschema:"required"`
	// Condition is START, COMPLETE, SUCCESS or HEALTHY.
	Condition string `json:"condition" jsonschema:"required,enum=START,enum=COMPLETE,enum=SUCCESS,enum=HEALTHY"`
}

// HostEntry is an /etc/hosts line.
type HostEntry struct {
	// Hostname is the name.
	Hostname string `json:"hostname" jsonschema:"required"`
	// IPAddress is the address.
	IPAddress string `json:"ipAddress" jsonschema:"required"`
}

// Ulimit is a resource limit.
type Ulimit struct {
	// Name is the limit, e.g. nofile.
	Name string `json:"name" jsonschema:"required"`
	// SoftLimit is the soft limit.
	SoftLimit int32 `json:"softLimit"`
	// HardLimit is the hard limit.
	HardLimit int32 `json:"hardLimit"`
}

// LogConfiguration routes container logs.
type LogConfiguration struct {
	// LogDriver is awslogs, awsfirelens, splunk, fluentd, json-file, ...
	LogDriver string `json:"logDriver" jsonschema:"required"`
	// Options configure the driver.
	Options map[string]string `json:"options,omitempty"`
	// SecretOptions pass secrets to the driver.
	SecretOptions []Secret `json:"secretOptions,omitempty"`
}

// ContainerHealthCheck is a Docker health check.
type ContainerHealthCheck struct {
	// Command is the check, e.g. ["CMD-SHELL", "curl -f http://localhost/ || exit 1"].
	Command []string `json:"command" jsonschema:"required,minItems=1"`
	// Interval is the seconds between checks.
	Interval *int32 `json:"interval,omitempty"`
	// Timeout is the seconds a check may take.
	Timeout *int32 `json:"timeout,omitempty"`
	// Retries is the failures before unhealthy.
	Retries *int32 `json:"retries,omitempty"`
	// StartPeriod is the grace period in seconds.
	StartPeriod *int32 `json:"startPeriod,omitempty"`
}

// SystemControl sets a kernel parameter.
type SystemControl struct {
	// Namespace is the parameter, e.g. net.core.somaxconn.
	Namespace string `json:"namespace" jsonschema:"required"`
	// Value is its value.
	Value string `json:"value" jsonschema:"required"`
}

// ResourceRequirement requests a GPU or accelerator.
type ResourceRequirement struct {
	// Type is GPU or InferenceAccelerator.
	Type string `json:"type" jsonschema:"required,enum=GPU,enum=InferenceAccelerator"`
	// Value is the count or accelerator name.
	Value string `json:"value" jsonschema:"required"`
}

// FirelensConfiguration configures a FireLens log router.
type FirelensConfiguration struct {
	// Type is fluentbit or fluentd.
	Type string `json:"type" jsonschema:"required,enum=fluentbit,enum=fluentd"`
	// Options configure the router, e.g. enable-ecs-log-metadata.
	Options map[string]string `json:"options,omitempty"`
}

// ContainerRestartPolicy restarts containers in place.
type ContainerRestartPolicy struct {
	// Enabled turns the policy on.
	Enabled bool `json:"enabled"`
	// IgnoredExitCodes are exit codes that do not restart the container.
	IgnoredExitCodes []int32 `json:"ignoredExitCodes,omitempty"`
	// RestartAttemptPeriod is the seconds a container must run before a
	// restart is attempted.
	RestartAttemptPeriod *int32 `json:"restartAttemptPeriod,omitempty"`
}

// Volume is a task data volume.
type Volume struct {
	// Name is referenced by mount points.
	Name string `json:"name" jsonschema:"required"`
	// Host is a bind mount from the host.
	Host *HostVolume `json:"host,omitempty"`
	// EFSVolumeConfiguration mounts an EFS file system.
	EFSVolumeConfiguration *EFSVolume `json:"efsVolumeConfiguration,omitempty"`
	// DockerVolumeConfiguration is a Docker volume (EC2 only).
	DockerVolumeConfiguration *DockerVolume `json:"dockerVolumeConfiguration,omitempty"`
	// ConfiguredAtLaunch leaves the volume to be configured when the task
	// runs.
	ConfiguredAtLaunch *bool `json:"configuredAtLaunch,omitempty"`
}

// HostVolume is a bind mount.
type HostVolume struct {
	// SourcePath is the path on the host.
	SourcePath string `json:"sourcePath,omitempty"`
}

// EFSVolume mounts EFS.
type EFSVolume struct {
	// FileSystemID is the EFS file system.
	FileSystemID string `json:"fileSystemId" jsonschema:"required"`
	// RootDirectory is the directory mounted.
	RootDirectory string `json:"rootDirectory,omitempty"`
	// TransitEncryption is ENABLED or DISABLED.
	TransitEncryption string `json:"transitEncryption,omitempty" jsonschema:"enum=ENABLED,enum=DISABLED"`
	// TransitEncryptionPort is the port used for encryption in transit.
	TransitEncryptionPort *int32 `json:"transitEncryptionPort,omitempty"`
	// AuthorizationConfig selects an access point and IAM auth.
	AuthorizationConfig *EFSAuthorization `json:"authorizationConfig,omitempty"`
}

// EFSAuthorization configures EFS access.
type EFSAuthorization struct {
	// AccessPointID is the EFS access point.
	AccessPointID string `json:"accessPointId,omitempty"`
	// IAM is ENABLED or DISABLED.
	IAM string `json:"iam,omitempty" jsonschema:"enum=ENABLED,enum=DISABLED"`
}

// DockerVolume is a Docker-managed volume.
type DockerVolume struct {
	// Scope is task or shared.
	Scope string `json:"scope,omitempty" jsonschema:"enum=task,enum=shared"`
	// Autoprovision creates a shared volume when missing.
	Autoprovision *bool `json:"autoprovision,omitempty"`
	// Driver is the volume driver.
	Driver string `json:"driver,omitempty"`
	// DriverOpts are options for the driver.
	DriverOpts map[string]string `json:"driverOpts,omitempty"`
	// Labels are volume labels.
	Labels map[string]string `json:"labels,omitempty"`
}

// PlacementConstraint restricts task placement.
type PlacementConstraint struct {
	// Type is distinctInstance or memberOf.
	Type string `json:"type" jsonschema:"required,enum=distinctInstance,enum=memberOf"`
	// Expression is a cluster query language expression (memberOf).
	Expression string `json:"expression,omitempty"`
}

// PlacementStrategy spreads or packs tasks.
type PlacementStrategy struct {
	// Type is random, spread or binpack.
	Type string `json:"type" jsonschema:"required,enum=random,enum=spread,enum=binpack"`
	// Field is what to spread or pack on, e.g. attribute:ecs.availability-zone or memory.
	Field string `json:"field,omitempty"`
}

// ProxyConfiguration configures an App Mesh proxy.
type ProxyConfiguration struct {
	// Type is APPMESH.
	Type string `json:"type,omitempty" jsonschema:"enum=APPMESH"`
	// ContainerName is the proxy container.
	ContainerName string `json:"containerName" jsonschema:"required"`
	// Properties configure the proxy.
	Properties []KeyValuePair `json:"properties,omitempty"`
}

// EphemeralStorage sizes ephemeral storage.
type EphemeralStorage struct {
	// SizeInGiB is from 21 to 200.
	SizeInGiB int32 `json:"sizeInGiB" jsonschema:"required,minimum=21,maximum=200"`
}

// RuntimePlatform selects the task's platform.
type RuntimePlatform struct {
	// CPUArchitecture is X86_64 or ARM64.
	CPUArchitecture string `json:"cpuArchitecture,omitempty" jsonschema:"enum=X86_64,enum=ARM64"`
	// OperatingSystemFamily is LINUX or a WINDOWS_SERVER_* value.
	OperatingSystemFamily string `json:"operatingSystemFamily,omitempty"`
}

// Tag is an AWS resource tag in ECS's lower-case shape.
type Tag struct {
	// Key is the tag key.
	Key string `json:"key" jsonschema:"required"`
	// Value is the tag value.
	Value string `json:"value"`
}

// ECSService is the content of an ECS target's service file.
type ECSService struct {
	// ServiceName is the service's name in its cluster.
	ServiceName string `json:"serviceName" jsonschema:"required"`
	// Cluster is the cluster's name or ARN.
	Cluster string `json:"cluster" jsonschema:"required"`
	// DesiredCount is the number of tasks to run. Leave it out when
	// autoScaling manages the count.
	DesiredCount *int32 `json:"desiredCount,omitempty"`
	// LaunchType is EC2, FARGATE or EXTERNAL. Set this or
	// capacityProviderStrategy.
	LaunchType string `json:"launchType,omitempty" jsonschema:"enum=EC2,enum=FARGATE,enum=EXTERNAL"`
	// CapacityProviderStrategy spreads tasks over capacity providers, e.g.
	// FARGATE and FARGATE_SPOT.
	CapacityProviderStrategy []CapacityProviderItem `json:"capacityProviderStrategy,omitempty"`
	// PlatformVersion is the Fargate platform version, e.g. LATEST.
	PlatformVersion string `json:"platformVersion,omitempty"`
	// NetworkConfiguration is the awsvpc subnets and security groups.
	NetworkConfiguration *NetworkConfiguration `json:"networkConfiguration,omitempty"`
	// LoadBalancers register the service's tasks into target groups.
	LoadBalancers []ServiceLoadBalancer `json:"loadBalancers,omitempty"`
	// ServiceRegistries register tasks in Cloud Map.
	ServiceRegistries []ServiceRegistry `json:"serviceRegistries,omitempty"`
	// PlacementConstraints restrict placement (EC2 only).
	PlacementConstraints []PlacementConstraint `json:"placementConstraints,omitempty"`
	// PlacementStrategy spreads or packs tasks (EC2 only).
	PlacementStrategy []PlacementStrategy `json:"placementStrategy,omitempty"`
	// DeploymentConfiguration tunes rolling updates.
	DeploymentConfiguration *DeploymentConfiguration `json:"deploymentConfiguration,omitempty"`
	// HealthCheckGracePeriodSeconds ignores load balancer health checks
	// after a task starts.
	HealthCheckGracePeriodSeconds *int32 `json:"healthCheckGracePeriodSeconds,omitempty"`
	// EnableExecuteCommand turns on ECS Exec.
	EnableExecuteCommand bool `json:"enableExecuteCommand,omitempty"`
	// EnableECSManagedTags tags tasks with cluster and service.
	EnableECSManagedTags bool `json:"enableECSManagedTags,omitempty"`
	// PropagateTags copies tags to tasks from SERVICE or TASK_DEFINITION.
	PropagateTags string `json:"propagateTags,omitempty" jsonschema:"enum=SERVICE,enum=TASK_DEFINITION,enum=NONE"`
	// SchedulingStrategy is REPLICA or DAEMON.
	SchedulingStrategy string `json:"schedulingStrategy,omitempty" jsonschema:"enum=REPLICA,enum=DAEMON"`
	// AvailabilityZoneRebalancing is ENABLED or DISABLED.
	AvailabilityZoneRebalancing string `json:"availabilityZoneRebalancing,omitempty" jsonschema:"enum=ENABLED,enum=DISABLED"`
	// Tags are added to the service (Jibe adds its own).
	Tags []Tag `json:"tags,omitempty"`
}

// UnknownFieldHint explains fields of describe-services output and fields
// that Jibe owns.
func (*ECSService) UnknownFieldHint(name string) string {
	switch name {
	case "taskDefinition":
		return "Jibe sets the task definition from the target's taskDefinition file; remove it"
	case "deploymentController":
		return "Jibe chooses the deployment controller from the environment's strategy; remove it"
	}
	return serverSet("ECS", name, "serviceArn", "clusterArn", "status", "runningCount", "pendingCount",
		"deployments", "events", "createdAt", "createdBy", "roleArn", "taskSets")
}

// CapacityProviderItem is one entry of a capacity provider strategy.
type CapacityProviderItem struct {
	// CapacityProvider is FARGATE, FARGATE_SPOT or an Auto Scaling group
	// provider.
	CapacityProvider string `json:"capacityProvider" jsonschema:"required"`
	// Weight is the relative share of tasks.
	Weight int32 `json:"weight,omitempty"`
	// Base is the minimum number of tasks on this provider.
	Base int32 `json:"base,omitempty"`
}

// NetworkConfiguration wraps the awsvpc configuration.
type NetworkConfiguration struct {
	// AwsvpcConfiguration is the subnets and security groups.
	AwsvpcConfiguration *AwsVpcConfiguration `json:"awsvpcConfiguration" jsonschema:"required"`
}

// AwsVpcConfiguration places tasks in subnets.
type AwsVpcConfiguration struct {
	// Subnets are subnet IDs: at least one.
	Subnets []string `json:"subnets" jsonschema:"required,minItems=1"`
	// SecurityGroups are security group IDs.
	SecurityGroups []string `json:"securityGroups,omitempty"`
	// AssignPublicIP is ENABLED or DISABLED.
	AssignPublicIP string `json:"assignPublicIp,omitempty" jsonschema:"enum=ENABLED,enum=DISABLED"`
}

// ServiceLoadBalancer registers tasks into a target group.
type ServiceLoadBalancer struct {
	// TargetGroupArn is the target group.
	TargetGroupArn string `json:"targetGroupArn,omitempty"`
	// LoadBalancerName is a Classic Load Balancer's name.
	LoadBalancerName string `json:"loadBalancerName,omitempty"`
	// ContainerName is the container receiving traffic.
	ContainerName string `json:"containerName" jsonschema:"required"`
	// ContainerPort is its port.
	ContainerPort int32 `json:"containerPort" jsonschema:"required"`
}

// ServiceRegistry registers tasks in Cloud Map.
type ServiceRegistry struct {
	// RegistryArn is the Cloud Map service ARN.
	RegistryArn string `json:"registryArn" jsonschema:"required"`
	// Port is used for SRV records with awsvpc.
	Port *int32 `json:"port,omitempty"`
	// ContainerName is the container registered (bridge/host).
	ContainerName string `json:"containerName,omitempty"`
	// ContainerPort is the container port registered (bridge/host).
	ContainerPort *int32 `json:"containerPort,omitempty"`
}

// DeploymentConfiguration tunes ECS rolling updates.
type DeploymentConfiguration struct {
	// MinimumHealthyPercent is the lower bound of running tasks during a
	// deployment, in percent of desiredCount.
	MinimumHealthyPercent *int32 `json:"minimumHealthyPercent,omitempty"`
	// MaximumPercent is the upper bound, in percent of desiredCount.
	MaximumPercent *int32 `json:"maximumPercent,omitempty"`
	// DeploymentCircuitBreaker stops (and optionally rolls back) a failing
	// deployment.
	DeploymentCircuitBreaker *CircuitBreaker `json:"deploymentCircuitBreaker,omitempty"`
	// Alarms fail the deployment when CloudWatch alarms fire.
	Alarms *DeploymentAlarms `json:"alarms,omitempty"`
}

// CircuitBreaker is the ECS deployment circuit breaker.
type CircuitBreaker struct {
	// Enable turns the circuit breaker on.
	Enable bool `json:"enable"`
	// Rollback rolls back to the last completed deployment when it trips.
	Rollback bool `json:"rollback"`
}

// DeploymentAlarms watches alarms during a deployment.
type DeploymentAlarms struct {
	// AlarmNames are the alarms watched.
	AlarmNames []string `json:"alarmNames" jsonschema:"required"`
	// Enable turns the watch on.
	Enable bool `json:"enable"`
	// Rollback rolls back when an alarm fires.
	Rollback bool `json:"rollback"`
}
