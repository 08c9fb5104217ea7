// Package awsemutest starts the AWS emulator for tests and builds real
// aws-sdk-go-v2 clients pointed at it, from explicit options (no shared
// config files, no environment).
package awsemutest

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/eks"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/servicediscovery"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/jibe-dev/jibe/internal/awsemu"
)

// Defaults of the test environment.
const (
	Region    = "us-east-1"
	AccessKey = "AKIDEMULATOR"
	Account   = "111111111111"
)

// Env is a running emulator and the settings clients need to reach it.
type Env struct {
	// Emu is the emulator, for Advance, Inject, Requests…
	Emu *awsemu.Emulator
	// URL is the emulator's base endpoint.
	URL string
	// Region, AccessKey and SecretKey sign requests.
	Region, AccessKey, SecretKey string
}

// Start runs an emulator with a manual clock for the duration of the
// test. AccessKey belongs to Account unless opts.Accounts says otherwise.
func Start(tb testing.TB, opts awsemu.Options) *Env {
	tb.Helper()
	if opts.Accounts == nil {
		opts.Accounts = map[string]string{AccessKey: Account}
	}
	emu := awsemu.New(opts)
	url, err := emu.Start()
	if err != nil {
		tb.Fatalf("start emulator: %v", err)
	}
	tb.Cleanup(func() { _ = emu.Close() })
	return &Env{Emu: emu, URL: url, Region: Region, AccessKey: AccessKey, SecretKey: "secret"}
}

// As returns a copy of the environment signing with another access key
// (and region when non-empty).
func (e *Env) As(accessKey, secretKey, region string) *Env {
	c := *e
	c.AccessKey, c.SecretKey = accessKey, secretKey
	if region != "" {
		c.Region = region
	}
	return &c
}

// Retryer retries immediately (no backoff sleep, no client-side rate
// limit), so tests of throttling are fast and deterministic.
func Retryer(maxAttempts int) func() aws.Retryer {
	return func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = maxAttempts
			o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
			o.RateLimiter = ratelimit.None
		})
	}
}

func (e *Env) creds() aws.CredentialsProvider {
	return credentials.NewStaticCredentialsProvider(e.AccessKey, e.SecretKey, "")
}

// ECS returns an ECS client.
func (e *Env) ECS(optFns ...func(*ecs.Options)) *ecs.Client {
	return ecs.New(ecs.Options{Region: e.Region, BaseEndpoint: aws.String(e.URL), Credentials: e.creds(), Retryer: Retryer(3)()}, optFns...)
}

// ELBv2 returns an Elastic Load Balancing v2 client.
func (e *Env) ELBv2(optFns ...func(*elbv2.Options)) *elbv2.Client {
	return elbv2.New(elbv2.Options{Region: e.Region, BaseEndpoint: aws.String(e.URL), Credentials: e.creds(), Retryer: Retryer(3)()}, optFns...)
}

// STS returns an STS client.
func (e *Env) STS(optFns ...func(*sts.Options)) *sts.Client {
	return sts.New(sts.Options{Region: e.Region, BaseEndpoint: aws.String(e.URL), Credentials: e.creds(), Retryer: Retryer(3)()}, optFns...)
}

// CloudWatch returns a CloudWatch client.
func (e *Env) CloudWatch(optFns ...func(*cloudwatch.Options)) *cloudwatch.Client {
	return cloudwatch.New(cloudwatch.Options{Region: e.Region, BaseEndpoint: aws.String(e.URL), Credentials: e.creds(), Retryer: Retryer(3)()}, optFns...)
}

// Lambda returns a Lambda client.
func (e *Env) Lambda(optFns ...func(*lambda.Options)) *lambda.Client {
	return lambda.New(lambda.Options{Region: e.Region, BaseEndpoint: aws.String(e.URL), Credentials: e.creds(), Retryer: Retryer(3)()}, optFns...)
}

// AppAutoScaling returns an Application Auto Scaling client.
func (e *Env) AppAutoScaling(optFns ...func(*applicationautoscaling.Options)) *applicationautoscaling.Client {
	return applicationautoscaling.New(applicationautoscaling.Options{Region: e.Region, BaseEndpoint: aws.String(e.URL), Credentials: e.creds(), Retryer: Retryer(3)()}, optFns...)
}

// S3 returns an S3 client using path-style addressing.
func (e *Env) S3(optFns ...func(*s3.Options)) *s3.Client {
	return s3.New(s3.Options{Region: e.Region, BaseEndpoint: aws.String(e.URL), Credentials: e.creds(), Retryer: Retryer(3)(), UsePathStyle: true}, optFns...)
}

// EC2 returns an EC2 client (launch templates are emulated).
func (e *Env) EC2(optFns ...func(*ec2.Options)) *ec2.Client {
	return ec2.New(ec2.Options{Region: e.Region, BaseEndpoint: aws.String(e.URL), Credentials: e.creds(), Retryer: Retryer(3)()}, optFns...)
}

// AutoScaling returns an EC2 Auto Scaling client.
func (e *Env) AutoScaling(optFns ...func(*autoscaling.Options)) *autoscaling.Client {
	return autoscaling.New(autoscaling.Options{Region: e.Region, BaseEndpoint: aws.String(e.URL), Credentials: e.creds(), Retryer: Retryer(3)()}, optFns...)
}

// ECR returns an ECR client.
func (e *Env) ECR(optFns ...func(*ecr.Options)) *ecr.Client {
	return ecr.New(ecr.Options{Region: e.Region, BaseEndpoint: aws.String(e.URL), Credentials: e.creds(), Retryer: Retryer(3)()}, optFns...)
}

// IAM returns an IAM client.
func (e *Env) IAM(optFns ...func(*iam.Options)) *iam.Client {
	return iam.New(iam.Options{Region: e.Region, BaseEndpoint: aws.String(e.URL), Credentials: e.creds(), Retryer: Retryer(3)()}, optFns...)
}

// EKS returns an EKS client.
func (e *Env) EKS(optFns ...func(*eks.Options)) *eks.Client {
	return eks.New(eks.Options{Region: e.Region, BaseEndpoint: aws.String(e.URL), Credentials: e.creds(), Retryer: Retryer(3)()}, optFns...)
}

// SecretsManager returns a Secrets Manager client.
func (e *Env) SecretsManager(optFns ...func(*secretsmanager.Options)) *secretsmanager.Client {
	return secretsmanager.New(secretsmanager.Options{Region: e.Region, BaseEndpoint: aws.String(e.URL), Credentials: e.creds(), Retryer: Retryer(3)()}, optFns...)
}

// SSM returns a Systems Manager client (Parameter Store is emulated).
func (e *Env) SSM(optFns ...func(*ssm.Options)) *ssm.Client {
	return ssm.New(ssm.Options{Region: e.Region, BaseEndpoint: aws.String(e.URL), Credentials: e.creds(), Retryer: Retryer(3)()}, optFns...)
}

// SQS returns an Amazon SQS client (awsJson1.0).
func (e *Env) SQS(optFns ...func(*sqs.Options)) *sqs.Client {
	return sqs.New(sqs.Options{Region: e.Region, BaseEndpoint: aws.String(e.URL), Credentials: e.creds(), Retryer: Retryer(3)()}, optFns...)
}

// SNS returns an Amazon SNS client (awsQuery).
func (e *Env) SNS(optFns ...func(*sns.Options)) *sns.Client {
	return sns.New(sns.Options{Region: e.Region, BaseEndpoint: aws.String(e.URL), Credentials: e.creds(), Retryer: Retryer(3)()}, optFns...)
}

// CloudMap returns an AWS Cloud Map (servicediscovery) client. It turns
// off the "data-" host prefix DiscoverInstances adds, which a loopback
// endpoint cannot resolve.
func (e *Env) CloudMap(optFns ...func(*servicediscovery.Options)) *servicediscovery.Client {
	return servicediscovery.New(servicediscovery.Options{Region: e.Region, BaseEndpoint: aws.String(e.URL), Credentials: e.creds(), Retryer: Retryer(3)(),
		APIOptions: []func(*middleware.Stack) error{DisableHostPrefix}}, optFns...)
}

// DisableHostPrefix is an SDK API option that stops operations from
// prefixing the endpoint host (Cloud Map's "data-"), so they reach an
// emulator on a fixed address.
func DisableHostPrefix(st *middleware.Stack) error {
	return st.Initialize.Add(middleware.InitializeMiddlewareFunc("DisableHostPrefix",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			return next.HandleInitialize(smithyhttp.DisableEndpointHostPrefix(ctx, true), in)
		}), middleware.Before)
}

// AdvanceEachAttempt is an SDK API option that moves emulated time forward
// by step before every call it is attached to. Attached to a waiter
// (Options.APIOptions) together with a tiny MinDelay/MaxDelay, it lets the
// SDK's own waiters run against emulated time: each poll sees the world
// step later, as it would after the waiter's real delay.
func (e *Env) AdvanceEachAttempt(step time.Duration) func(*middleware.Stack) error {
	return func(st *middleware.Stack) error {
		return st.Initialize.Add(middleware.InitializeMiddlewareFunc("AdvanceEmulatedTime",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				e.Emu.Advance(step)
				return next.HandleInitialize(ctx, in)
			}), middleware.Before)
	}
}

// WaiterDelay is the real delay between waiter polls in tests: the
// smallest the SDK accepts, since emulated time moves per attempt instead.
const WaiterDelay = time.Millisecond

// AddImages seeds available machine images of those IDs in Account and
// the environment's region: Auto Scaling launches only AMIs that exist.
func (e *Env) AddImages(tb testing.TB, ids ...string) {
	tb.Helper()
	for _, id := range ids {
		if err := e.Emu.AddImage(Account, e.Region, awsemu.Image{ID: id, Name: id}); err != nil {
			tb.Fatal(err)
		}
	}
}
