// Package account turns the AWS accounts of the agent configuration into
// AWS SDK configurations: credentials, region, endpoint, and the role to
// assume, checked against the account ID before anything is deployed.
package account

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/logging"

	"github.com/jibe-dev/jibe/config"
	"github.com/jibe-dev/jibe/internal/apimetrics"
	"github.com/jibe-dev/jibe/providers/aws/awserr"
	"github.com/jibe-dev/jibe/reconcile"
)

// sessionName names Jibe's sessions in CloudTrail.
const sessionName = "jibe"

// Config returns the SDK configuration of account a in region (a's
// default region when empty). With static credentials it does not read the
// environment at all; otherwise it uses the SDK's default chain
// (environment, shared files, instance or pod role). a's role is assumed
// for every call, and a's endpoint, when set, serves every service. Every
// call of a client built from it is counted (apimetrics.AWSCalls), and
// what the SDK logs goes to slog's default logger (sdkLogger).
func Config(ctx context.Context, a config.AWSAccount, region string) (aws.Config, error) {
	if region == "" {
		region = a.Region
	}
	cfg, err := baseConfig(ctx, a, region)
	if err != nil {
		return aws.Config{}, err
	}
	if a.Endpoint != "" {
		cfg.BaseEndpoint = aws.String(a.Endpoint)
	}
	cfg.APIOptions = append(cfg.APIOptions, apimetrics.AWSCalls(a.Name, cfg.Region))
	cfg.Logger = sdkLogger(a.Name)
	if a.RoleARN != "" {
		cfg.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(sts.NewFromConfig(cfg), a.RoleARN,
			func(o *stscreds.AssumeRoleOptions) {
				o.RoleSessionName = sessionName
				if a.ExternalID != "" {
					o.ExternalID = aws.String(a.ExternalID)
				}
			}))
	}
	return cfg, nil
}

// sdkLogger sends what the SDK logs (retries, checksum and deprecation
// warnings) to slog's default logger, at the matching level, with the
// account's name: the SDK's default configuration writes plain lines to
// stderr, which would break the agent's one JSON log. slog's default is
// read at each line, so that it is the agent's logger once it is set.
func sdkLogger(account string) logging.Logger {
	return logging.LoggerFunc(func(c logging.Classification, format string, v ...any) {
		level := slog.LevelDebug
		if c == logging.Warn {
			level = slog.LevelWarn
		}
		slog.Default().Log(context.Background(), level, fmt.Sprintf(format, v...), "component", "aws-sdk", "account", account)
	})
}

func baseConfig(ctx context.Context, a config.AWSAccount, region string) (aws.Config, error) {
	if a.Credentials == nil {
		cfg, err := awsconfig.LoadDefaultConfig(ctx, awsconfig.WithRegion(region))
		if err != nil {
			return aws.Config{}, fmt.Errorf("account %s: loading AWS credentials: %w", a.Name, err)
		}
		return cfg, nil
	}
	id, err := a.Credentials.AccessKeyID.Resolve()
	if err != nil {
		return aws.Config{}, reconcile.Stalled(fmt.Errorf("account %s: credentials.accessKeyID: %w", a.Name, err))
	}
	secret, err := a.Credentials.SecretAccessKey.Resolve()
	if err != nil {
		return aws.Config{}, reconcile.Stalled(fmt.Errorf("account %s: credentials.secretAccessKey: %w", a.Name, err))
	}
	var session string
	if a.Credentials.SessionToken != nil {
		s, err := a.Credentials.SessionToken.Resolve()
		if err != nil {
			return aws.Config{}, reconcile.Stalled(fmt.Errorf("account %s: credentials.sessionToken: %w", a.Name, err))
		}
		session = s.Reveal()
	}
	return aws.Config{Region: region,
		Credentials: aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider(id.Reveal(), secret.Reveal(), session))}, nil
}

// Verify checks that cfg's credentials act in account a: a deploy with
// credentials of another account would change that account instead. It
// is a no-op when a names no account ID.
func Verify(ctx context.Context, cfg aws.Config, a config.AWSAccount) error {
	if a.AccountID == "" {
		return nil
	}
	out, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return awserr.Classify(fmt.Errorf("account %s: checking the credentials' identity: %w", a.Name, err), verifyHints)
	}
	if got := aws.ToString(out.Account); got != a.AccountID {
		return reconcile.Stalled(fmt.Errorf("account %s: the credentials act in account %s, not %s; fix aws.accounts[].credentials or roleARN in the agent configuration", a.Name, got, a.AccountID))
	}
	return nil
}

// verifyHints say what to fix when checking the credentials' identity is
// refused: the one call that can be is assuming the account's role.
var verifyHints = map[string]string{
	"AccessDenied": "allow the agent's credentials to assume the role (sts:AssumeRole and the role's trust policy) or fix aws.accounts[].roleARN",
}
