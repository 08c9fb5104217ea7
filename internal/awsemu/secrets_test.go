package awsemu_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/aws/smithy-go"

	"github.com/jibe-dev/jibe/internal/awsemu"
)

// Secrets are found by name, full ARN and partial ARN; a deleted secret
// can still be described until its recovery window ends, but not read.
func TestSecretsManagerSecretLifecycle(t *testing.T) {
	ctx := context.Background()
	env := start(t)
	c := env.SecretsManager()
	created := need(c.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("prod/db"), SecretString: aws.String(`{"password":"x"}`)})).on(t)
	arn := aws.ToString(created.ARN)
	if !strings.HasPrefix(arn, "arn:aws:secretsmanager:us-east-1:111111111111:secret:prod/db-") || len(arn) != len("arn:aws:secretsmanager:us-east-1:111111111111:secret:prod/db-")+6 {
		t.Fatalf("ARN %q", arn)
	}
	for _, id := range []string{"prod/db", arn, strings.TrimSuffix(arn, arn[len(arn)-7:])} {
		d := need(c.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(id)})).on(t)
		if aws.ToString(d.ARN) != arn || aws.ToString(d.Name) != "prod/db" || d.VersionIdsToStages[aws.ToString(created.VersionId)][0] != "AWSCURRENT" {
			t.Errorf("describe %s: %s", id, jsonOf(t, d))
		}
	}
	v := need(c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("prod/db")})).on(t)
	if aws.ToString(v.SecretString) != `{"password":"x"}` || v.VersionStages[0] != "AWSCURRENT" {
		t.Errorf("value %s", jsonOf(t, v))
	}
	_, err := c.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("prod/db"), SecretString: aws.String("y")})
	var exists *smtypes.ResourceExistsException
	if !errors.As(err, &exists) {
		t.Errorf("duplicate name: got %v, want ResourceExistsException", err)
	}
	del := need(c.DeleteSecret(ctx, &secretsmanager.DeleteSecretInput{SecretId: aws.String(arn), RecoveryWindowInDays: aws.Int64(7)})).on(t)
	if want := env.Emu.Now().Add(7 * 24 * time.Hour); !aws.ToTime(del.DeletionDate).Equal(want) {
		t.Errorf("deletion date %v, want %v", del.DeletionDate, want)
	}
	if d := need(c.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String("prod/db")})).on(t); d.DeletedDate == nil {
		t.Errorf("a secret scheduled for deletion has no DeletedDate: %s", jsonOf(t, d))
	}
	_, err = c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("prod/db")})
	var invalid *smtypes.InvalidRequestException
	if !errors.As(err, &invalid) {
		t.Errorf("reading a deleted secret: got %v, want InvalidRequestException", err)
	}
	env.Emu.Advance(7 * 24 * time.Hour)
	_, err = c.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String("prod/db")})
	var notFound *smtypes.ResourceNotFoundException
	if !errors.As(err, &notFound) || notFound.ErrorMessage() != "Secrets Manager can't find the specified secret." {
		t.Errorf("after the recovery window: got %v, want ResourceNotFoundException", err)
	}
	need(c.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("tmp"), SecretString: aws.String("z")})).on(t)
	need(c.DeleteSecret(ctx, &secretsmanager.DeleteSecretInput{SecretId: aws.String("tmp"), ForceDeleteWithoutRecovery: aws.Bool(true)})).on(t)
	if _, err := c.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String("tmp")}); !errors.As(err, &notFound) {
		t.Errorf("after a forced delete: got %v, want ResourceNotFoundException", err)
	}
}

// Parameters are found by name and ARN; GetParameters lists unknown
// names instead of failing; SecureStrings read without decryption are
// not the value.
func TestSSMParameterStore(t *testing.T) {
	ctx := context.Background()
	env := start(t)
	c := env.SSM()
	need(c.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/prod/db/password"), Value: aws.String("hunter2"), Type: ssmtypes.ParameterTypeSecureString})).on(t)
	need(c.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("mode"), Value: aws.String("prod"), Type: ssmtypes.ParameterTypeString})).on(t)
	_, err := c.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("mode"), Value: aws.String("dev"), Type: ssmtypes.ParameterTypeString})
	var exists *ssmtypes.ParameterAlreadyExists
	if !errors.As(err, &exists) {
		t.Errorf("put without overwrite: got %v, want ParameterAlreadyExists", err)
	}
	put := need(c.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("mode"), Value: aws.String("dev"), Overwrite: aws.Bool(true)})).on(t)
	if put.Version != 2 {
		t.Errorf("version after overwrite %d, want 2", put.Version)
	}
	const arn = "arn:aws:ssm:us-east-1:111111111111:parameter/prod/db/password"
	p := need(c.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(arn), WithDecryption: aws.Bool(true)})).on(t).Parameter
	if aws.ToString(p.Value) != "hunter2" || aws.ToString(p.ARN) != arn || p.Type != ssmtypes.ParameterTypeSecureString {
		t.Errorf("by ARN %s", jsonOf(t, p))
	}
	p = need(c.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/prod/db/password")})).on(t).Parameter
	if aws.ToString(p.Value) == "hunter2" {
		t.Error("a SecureString read without decryption returned its value")
	}
	got := need(c.GetParameters(ctx, &ssm.GetParametersInput{Names: []string{"mode", "arn:aws:ssm:us-east-1:111111111111:parameter/mode", "/nope"}})).on(t)
	if len(got.Parameters) != 2 || aws.ToString(got.Parameters[0].Value) != "dev" || len(got.InvalidParameters) != 1 || got.InvalidParameters[0] != "/nope" {
		t.Errorf("GetParameters %s", jsonOf(t, got))
	}
	need(c.DeleteParameter(ctx, &ssm.DeleteParameterInput{Name: aws.String("mode")})).on(t)
	for name, call := range map[string]func() error{
		"GetParameter": func() error {
			_, err := c.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("mode")})
			return err
		},
		"DeleteParameter": func() error {
			_, err := c.DeleteParameter(ctx, &ssm.DeleteParameterInput{Name: aws.String("mode")})
			return err
		},
	} {
		var nf *ssmtypes.ParameterNotFound
		if err := call(); !errors.As(err, &nf) {
			t.Errorf("%s of a deleted parameter: got %v, want ParameterNotFound", name, err)
		}
	}
}

// Subnets and security groups: ids must all exist when listed, filters
// return what exists.
func TestEC2SubnetsAndSecurityGroups(t *testing.T) {
	ctx := context.Background()
	env := start(t)
	c := env.EC2()
	sub := need(c.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: aws.String("vpc-1"), CidrBlock: aws.String("10.0.1.0/24")})).on(t).Subnet
	id := aws.ToString(sub.SubnetId)
	if !strings.HasPrefix(id, "subnet-") || aws.ToString(sub.VpcId) != "vpc-1" || sub.State != ec2types.SubnetStateAvailable {
		t.Errorf("subnet %s", jsonOf(t, sub))
	}
	_, err := c.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{SubnetIds: []string{id, "subnet-404"}})
	var api smithy.APIError
	if !errors.As(err, &api) || api.ErrorCode() != "InvalidSubnetID.NotFound" || !strings.Contains(api.ErrorMessage(), "subnet-404") {
		t.Errorf("unknown subnet id: got %v, want InvalidSubnetID.NotFound", err)
	}
	found := need(c.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{Filters: []ec2types.Filter{{Name: aws.String("subnet-id"), Values: []string{id, "subnet-404"}}}})).on(t)
	if len(found.Subnets) != 1 || aws.ToString(found.Subnets[0].SubnetId) != id {
		t.Errorf("filter by subnet-id %s", jsonOf(t, found.Subnets))
	}
	sg := aws.ToString(need(c.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("web"), Description: aws.String("web tasks"), VpcId: aws.String("vpc-1")})).on(t).GroupId)
	groups := need(c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{Filters: []ec2types.Filter{{Name: aws.String("group-id"), Values: []string{sg, "sg-404"}}}})).on(t)
	if len(groups.SecurityGroups) != 1 || aws.ToString(groups.SecurityGroups[0].GroupName) != "web" {
		t.Errorf("filter by group-id %s", jsonOf(t, groups.SecurityGroups))
	}
	need(c.DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{GroupId: aws.String(sg)})).on(t)
	need(c.DeleteSubnet(ctx, &ec2.DeleteSubnetInput{SubnetId: aws.String(id)})).on(t)
	_, err = c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{sg}})
	if !errors.As(err, &api) || api.ErrorCode() != "InvalidGroup.NotFound" {
		t.Errorf("deleted group: got %v, want InvalidGroup.NotFound", err)
	}
}

// A Deny fault answers with each protocol's access-denied error.
func TestSecretsManagerSSMDenyFault(t *testing.T) {
	ctx := context.Background()
	env := start(t)
	env.Emu.Inject(awsemu.Fault{Kind: awsemu.Deny})
	checks := map[string]error{}
	_, checks["AccessDeniedException"] = env.SecretsManager().DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String("x")})
	_, checks["UnauthorizedOperation"] = env.EC2().DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{})
	for code, err := range checks {
		var api smithy.APIError
		if !errors.As(err, &api) || api.ErrorCode() != code {
			t.Errorf("got %v, want %s", err, code)
		}
	}
	_, err := env.SSM().GetParameters(ctx, &ssm.GetParametersInput{Names: []string{"x"}})
	var api smithy.APIError
	if !errors.As(err, &api) || api.ErrorCode() != "AccessDeniedException" {
		t.Errorf("ssm: got %v, want AccessDeniedException", err)
	}
}
