package spec

// LambdaTarget deploys one Lambda function behind an alias.
type LambdaTarget struct {
	// Function is the path of a function file in the shape of Lambda
	// CreateFunction (the PascalCase JSON the AWS CLI and lambroll use).
	// Placeholders are resolved in it.
	Function string `json:"function" jsonschema:"required"`
	// Alias is the alias that callers invoke and that Jibe moves to each new
	// version (weighted during a canary). Default "live".
	Alias string `json:"alias,omitempty"`
	// TargetGroupArn registers the alias in an ALB target group of type
	// lambda, granting ELB permission to invoke it.
	TargetGroupArn string `json:"targetGroupArn,omitempty"`
	// ProvisionedConcurrency keeps this many execution environments
	// initialised on each new version (PutProvisionedConcurrencyConfig on
	// the version): Jibe waits until they are ready before the version gets
	// any traffic, and removes them from versions no alias uses any more.
	// At most the function's reserved concurrency, and what the account
	// leaves unreserved. None when omitted.
	ProvisionedConcurrency *int32 `json:"provisionedConcurrency,omitempty" jsonschema:"minimum=1"`
}

// LambdaFunction is the content of a Lambda target's function file.
type LambdaFunction struct {
	// FunctionName is the function's name.
	FunctionName string `json:"FunctionName" jsonschema:"required"`
	// Description describes the function.
	Description string `json:"Description,omitempty"`
	// Role is the execution role's ARN, arn:aws:iam::<account>:role/<name>
	// (often with the account as ${vars.accountId}).
	Role string `json:"Role" jsonschema:"required"`
	// PackageType is Zip (default) or Image.
	PackageType string `json:"PackageType,omitempty" jsonschema:"enum=Zip,enum=Image"`
	// Runtime is the runtime of a Zip package, e.g. python3.12 or
	// provided.al2023: one the AWS SDK knows. A deprecated runtime is a
	// warning.
	Runtime string `json:"Runtime,omitempty"`
	// Handler is the entry point of a Zip package in the runtime's form:
	// file.function (Python, Node.js, Ruby), package.Class::method (Java),
	// Assembly::Namespace.Class::Method (.NET); anything for provided.*.
	Handler string `json:"Handler,omitempty"`
	// Code locates the package: S3Bucket and S3Key (or Folder) for Zip,
	// ImageUri for Image.
	Code LambdaCode `json:"Code" jsonschema:"required"`
	// ImageConfig overrides the image's entry point, command and working
	// directory.
	ImageConfig *LambdaImageConfig `json:"ImageConfig,omitempty"`
	// MemorySize is the memory in MB, from 128 to 10240. Default 128.
	MemorySize *int32 `json:"MemorySize,omitempty" jsonschema:"minimum=128,maximum=10240"`
	// Timeout is the maximum run time in seconds, from 1 to 900. Default 3.
	Timeout *int32 `json:"Timeout,omitempty" jsonschema:"minimum=1,maximum=900"`
	// Environment sets environment variables: names of letters, digits and
	// _, none of those Lambda reserves (AWS_REGION...), 4 KB in all.
	Environment *LambdaEnvironment `json:"Environment,omitempty"`
	// Tags are added to the function (Jibe adds its own).
	Tags map[string]string `json:"Tags,omitempty"`
	// VpcConfig attaches the function to subnets and security groups.
	VpcConfig *LambdaVpcConfig `json:"VpcConfig,omitempty"`
	// DeadLetterConfig sends failed asynchronous events to SQS or SNS.
	DeadLetterConfig *LambdaDeadLetterConfig `json:"DeadLetterConfig,omitempty"`
	// TracingConfig turns on X-Ray tracing.
	TracingConfig *LambdaTracingConfig `json:"TracingConfig,omitempty"`
	// Architectures is [x86_64] (default) or [arm64].
	Architectures []string `json:"Architectures,omitempty"`
	// Layers are up to 5 layer version ARNs.
	Layers []string `json:"Layers,omitempty"`
	// ReservedConcurrentExecutions reserves (and caps) concurrency; 0
	// stops every invocation.
	ReservedConcurrentExecutions *int32 `json:"ReservedConcurrentExecutions,omitempty" jsonschema:"minimum=0"`
	// EphemeralStorage sizes /tmp.
	EphemeralStorage *LambdaEphemeralStorage `json:"EphemeralStorage,omitempty"`
	// KMSKeyArn encrypts environment variables with a customer key (the
	// key's ARN, not an alias).
	KMSKeyArn string `json:"KMSKeyArn,omitempty"`
	// LoggingConfig sets log format and group.
	LoggingConfig *LambdaLoggingConfig `json:"LoggingConfig,omitempty"`
	// FileSystemConfigs mount one EFS access point; the function needs
	// VpcConfig.
	FileSystemConfigs []LambdaFileSystemConfig `json:"FileSystemConfigs,omitempty"`
	// SnapStart snapshots the initialised execution environment of each
	// published version (Java, Python and .NET runtimes).
	SnapStart *LambdaSnapStart `json:"SnapStart,omitempty"`
}

// LambdaSnapStart configures SnapStart.
type LambdaSnapStart struct {
	// ApplyOn is PublishedVersions or None (default).
	ApplyOn string `json:"ApplyOn,omitempty" jsonschema:"enum=PublishedVersions,enum=None"`
}

// UnknownFieldHint explains fields of get-function-configuration output.
func (*LambdaFunction) UnknownFieldHint(name string) string {
	return serverSet("Lambda", name, "FunctionArn", "CodeSha256", "CodeSize", "LastModified", "Version",
		"State", "StateReason", "StateReasonCode", "LastUpdateStatus", "LastUpdateStatusReason",
		"LastUpdateStatusReasonCode", "RevisionId", "MasterArn", "SigningProfileVersionArn", "SigningJobArn")
}

// LambdaCode locates a deployment package.
type LambdaCode struct {
	// S3Bucket holds a Zip package, usually ${artifacts.<name>.bucket}.
	S3Bucket string `json:"S3Bucket,omitempty"`
	// S3Key is the package's key, usually ${artifacts.<name>.key}.
	S3Key string `json:"S3Key,omitempty"`
	// S3ObjectVersion is the package's version in a versioned bucket.
	S3ObjectVersion string `json:"S3ObjectVersion,omitempty"`
	// ImageUri is an ECR image for an Image package, usually
	// ${artifacts.<name>}.
	ImageUri string `json:"ImageUri,omitempty"`
	// Folder zips a folder of the application (a path relative to the
	// application's folder, e.g. src) as the Zip package, uploaded
	// directly (ZipFile): files in path order, with fixed times and modes
	// (0755 for executables, else 0644), so that the same files make the
	// same CodeSha256 and no new version. At most 50 MB zipped (larger:
	// S3Bucket and S3Key); not with S3Bucket, S3Key or ImageUri.
	Folder string `json:"Folder,omitempty"`
	// ZipFile is the zip of Folder, built when the spec is loaded; never
	// written in a file.
	ZipFile []byte `json:"-"`
}

// LambdaImageConfig overrides image settings.
type LambdaImageConfig struct {
	// EntryPoint overrides the entry point.
	EntryPoint []string `json:"EntryPoint,omitempty"`
	// Command overrides the command.
	Command []string `json:"Command,omitempty"`
	// WorkingDirectory overrides the working directory.
	WorkingDirectory string `json:"WorkingDirectory,omitempty"`
}

// LambdaEnvironment holds environment variables.
type LambdaEnvironment struct {
	// Variables are the environment variables.
	Variables map[string]string `json:"Variables,omitempty"`
}

// LambdaVpcConfig attaches a function to a VPC.
type LambdaVpcConfig struct {
	// SubnetIds are the subnets.
	SubnetIds []string `json:"SubnetIds,omitempty"`
	// SecurityGroupIds are the security groups.
	SecurityGroupIds []string `json:"SecurityGroupIds,omitempty"`
	// Ipv6AllowedForDualStack allows IPv6 traffic in dual-stack subnets.
	Ipv6AllowedForDualStack *bool `json:"Ipv6AllowedForDualStack,omitempty"`
}

// LambdaDeadLetterConfig names a dead-letter queue or topic.
type LambdaDeadLetterConfig struct {
	// TargetArn is an SQS queue or SNS topic ARN.
	TargetArn string `json:"TargetArn,omitempty"`
}

// LambdaTracingConfig sets X-Ray tracing.
type LambdaTracingConfig struct {
	// Mode is Active or PassThrough.
	Mode string `json:"Mode,omitempty" jsonschema:"enum=Active,enum=PassThrough"`
}

// LambdaEphemeralStorage sizes /tmp.
type LambdaEphemeralStorage struct {
	// Size is in MB, from 512 to 10240.
	Size int32 `json:"Size" jsonschema:"required,minimum=512,maximum=10240"`
}

// LambdaLoggingConfig configures logging.
type LambdaLoggingConfig struct {
	// LogFormat is Text or JSON.
	LogFormat string `json:"LogFormat,omitempty" jsonschema:"enum=Text,enum=JSON"`
	// LogGroup is the CloudWatch Logs group.
	LogGroup string `json:"LogGroup,omitempty"`
	// ApplicationLogLevel filters application logs (JSON format only).
	ApplicationLogLevel string `json:"ApplicationLogLevel,omitempty" jsonschema:"enum=TRACE,enum=DEBUG,enum=INFO,enum=WARN,enum=ERROR,enum=FATAL"`
	// SystemLogLevel filters system logs (JSON format only).
	SystemLogLevel string `json:"SystemLogLevel,omitempty" jsonschema:"enum=DEBUG,enum=INFO,enum=WARN"`
}

// LambdaFileSystemConfig mounts EFS.
type LambdaFileSystemConfig struct {
	// Arn is the EFS access point ARN.
	Arn string `json:"Arn" jsonschema:"required"`
	// LocalMountPath is a folder directly under /mnt/, e.g. /mnt/data.
	LocalMountPath string `json:"LocalMountPath" jsonschema:"required"`
}
