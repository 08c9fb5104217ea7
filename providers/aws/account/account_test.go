package account

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/jibe-dev/jibe/config"
	"github.com/jibe-dev/jibe/internal/awsemu"
	"github.com/jibe-dev/jibe/internal/awsemu/awsemutest"
	"github.com/jibe-dev/jibe/reconcile"
)

const (
	staging    = "111111111111"
	production = "222222222222"
)

// emulator starts the AWS emulator with the staging account's keys in the
// environment and the role jibe-deployer in production, which AssumeRole
// needs to exist.
func emulator(t *testing.T) *awsemutest.Env {
	t.Setenv("JIBE_TEST_KEY_ID", "AKIASTAGING")
	t.Setenv("JIBE_TEST_SECRET", "secret")
	env := awsemutest.Start(t, awsemu.Options{Accounts: map[string]string{"AKIASTAGING": staging, "AKIAPRODUCTION": production}})
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + staging + `:root"},"Action":"sts:AssumeRole"}]}`
	if _, err := env.As("AKIAPRODUCTION", "secret", "").IAM().CreateRole(context.Background(), &iam.CreateRoleInput{
		RoleName: aws.String("jibe-deployer"), AssumeRolePolicyDocument: aws.String(trust)}); err != nil {
		t.Fatal(err)
	}
	return env
}

func account(env *awsemutest.Env, id, role string) config.AWSAccount {
	return config.AWSAccount{Name: "acct", AccountID: id, Region: "eu-west-1", RoleARN: role, Endpoint: env.URL,
		Credentials: &config.AWSCredentials{AccessKeyID: config.SecretRef{Env: "JIBE_TEST_KEY_ID"}, SecretAccessKey: config.SecretRef{Env: "JIBE_TEST_SECRET"}}}
}

func identity(t *testing.T, cfg aws.Config) string {
	t.Helper()
	out, err := sts.NewFromConfig(cfg).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.Account)
}

// Static credentials act in their own account; with a role, every call
// acts in the role's account, and state is kept apart per account.
func TestConfigAssumesTheAccountsRole(t *testing.T) {
	env := emulator(t)
	ctx := context.Background()
	direct, err := Config(ctx, account(env, staging, ""), "")
	if err != nil {
		t.Fatal(err)
	}
	if got := identity(t, direct); got != staging {
		t.Errorf("static credentials act in %s, want %s", got, staging)
	}
	assumed, err := Config(ctx, account(env, production, "arn:aws:iam::"+production+":role/jibe-deployer"), "eu-west-1")
	if err != nil {
		t.Fatal(err)
	}
	if got := identity(t, assumed); got != production {
		t.Errorf("assumed role acts in %s, want %s", got, production)
	}
	if _, err := ecs.NewFromConfig(assumed).CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("prod")}); err != nil {
		t.Fatal(err)
	}
	out, err := ecs.NewFromConfig(direct).ListClusters(ctx, &ecs.ListClustersInput{})
	if err != nil || len(out.ClusterArns) != 0 {
		t.Errorf("the staging account sees production's clusters: %v, %v", out.ClusterArns, err)
	}
}

// Credentials that act in another account than the configured one are
// refused before anything is deployed, with a message saying what to fix.
func TestVerify(t *testing.T) {
	env := emulator(t)
	ctx := context.Background()
	ok := account(env, staging, "")
	cfg, _ := Config(ctx, ok, "")
	if err := Verify(ctx, cfg, ok); err != nil {
		t.Errorf("matching account: %v", err)
	}
	wrong := account(env, production, "")
	cfg, _ = Config(ctx, wrong, "")
	err := Verify(ctx, cfg, wrong)
	if reconcile.PolicyOf(err) != reconcile.PolicyStall || !strings.Contains(err.Error(), "the credentials act in account 111111111111, not 222222222222") {
		t.Errorf("mismatch: %v", err)
	}
}

func TestConfigMissingSecret(t *testing.T) {
	a := config.AWSAccount{Name: "acct", Region: "eu-west-1",
		Credentials: &config.AWSCredentials{AccessKeyID: config.SecretRef{Env: "JIBE_TEST_UNSET_KEY"}, SecretAccessKey: config.SecretRef{Env: "JIBE_TEST_UNSET_KEY"}}}
	_, err := Config(context.Background(), a, "")
	if reconcile.PolicyOf(err) != reconcile.PolicyStall || !strings.Contains(err.Error(), "JIBE_TEST_UNSET_KEY is not set") {
		t.Errorf("err = %v", err)
	}
}

// A role the credentials may not assume stalls Verify with what to fix,
// classified by the one AWS error table, instead of being retried.
func TestVerifyDeniedRoleStalls(t *testing.T) {
	env := emulator(t)
	ctx := context.Background()
	a := account(env, production, "arn:aws:iam::"+production+":role/jibe-deployer")
	cfg, err := Config(ctx, a, "eu-west-1")
	if err != nil {
		t.Fatal(err)
	}
	env.Emu.Inject(awsemu.Fault{Service: "sts", Operation: "AssumeRole", Kind: awsemu.Deny})
	err = Verify(ctx, cfg, a)
	if reconcile.PolicyOf(err) != reconcile.PolicyStall || !strings.Contains(err.Error(), "or fix aws.accounts[].roleARN") {
		t.Errorf("denied role: %v (%v), want stalled saying what to fix", err, reconcile.PolicyOf(err))
	}
}
