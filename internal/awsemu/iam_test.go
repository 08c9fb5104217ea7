package awsemu_test

import (
	"context"
	"errors"
	"net/url"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
)

const trust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}`

func TestIAMRolesAndPolicies(t *testing.T) {
	ctx := context.Background()
	env := start(t)
	c := env.IAM()
	role := need(c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("task"), AssumeRolePolicyDocument: aws.String(trust), Path: aws.String("/app/"),
		Tags: []iamtypes.Tag{{Key: aws.String("team"), Value: aws.String("core")}}})).on(t).Role
	if aws.ToString(role.Arn) != "arn:aws:iam::111111111111:role/app/task" {
		t.Errorf("arn %s", aws.ToString(role.Arn))
	}
	exists := iam.NewRoleExistsWaiter(c, func(o *iam.RoleExistsWaiterOptions) { o.MinDelay, o.MaxDelay = time.Millisecond, time.Millisecond })
	if err := exists.Wait(ctx, &iam.GetRoleInput{RoleName: aws.String("task")}, time.Minute); err != nil {
		t.Fatalf("RoleExists: %v", err)
	}
	got := need(c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("task")})).on(t).Role
	if doc, _ := url.QueryUnescape(aws.ToString(got.AssumeRolePolicyDocument)); doc != trust {
		t.Errorf("trust policy %s", doc)
	}
	_, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("task"), AssumeRolePolicyDocument: aws.String(trust)})
	var exists2 *iamtypes.EntityAlreadyExistsException
	if !errors.As(err, &exists2) {
		t.Errorf("duplicate role: got %v", err)
	}
	_, err = c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("bad"), AssumeRolePolicyDocument: aws.String("{")})
	var malformed *iamtypes.MalformedPolicyDocumentException
	if !errors.As(err, &malformed) {
		t.Errorf("malformed trust policy: got %v", err)
	}
	pol := need(c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("read"), PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[]}`)})).on(t).Policy
	need(c.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("task"), PolicyArn: pol.Arn})).on(t)
	need(c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("task"), PolicyName: aws.String("inline"), PolicyDocument: aws.String(trust)})).on(t)
	att := need(c.ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String("task")})).on(t)
	if len(att.AttachedPolicies) != 1 || aws.ToString(att.AttachedPolicies[0].PolicyName) != "read" {
		t.Errorf("attached %s", jsonOf(t, att.AttachedPolicies))
	}
	_, err = c.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("task")})
	var conflict *iamtypes.DeleteConflictException
	if !errors.As(err, &conflict) {
		t.Errorf("deleting a role with policies: got %v", err)
	}
	need(c.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: aws.String("task"), PolicyArn: pol.Arn})).on(t)
	need(c.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String("task"), PolicyName: aws.String("inline")})).on(t)
	need(c.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("task")})).on(t)
	_, err = c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("task")})
	var nse *iamtypes.NoSuchEntityException
	if !errors.As(err, &nse) {
		t.Errorf("deleted role: got %v", err)
	}
}

// TestIAMInstanceProfiles: a profile holds one role, GetInstanceProfile
// returns it with its trust policy, unknown profiles are NoSuchEntity,
// and neither the role nor the profile can be deleted while joined.
func TestIAMInstanceProfiles(t *testing.T) {
	ctx := context.Background()
	env := start(t)
	c := env.IAM()
	const ec2Trust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	need(c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("web"), AssumeRolePolicyDocument: aws.String(ec2Trust)})).on(t)
	p := need(c.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("web")})).on(t).InstanceProfile
	if aws.ToString(p.Arn) != "arn:aws:iam::111111111111:instance-profile/web" || len(p.Roles) != 0 {
		t.Fatalf("profile %+v", p)
	}
	need(c.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String("web"), RoleName: aws.String("web")})).on(t)
	_, err := c.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String("web"), RoleName: aws.String("web")})
	var limit *iamtypes.LimitExceededException
	if !errors.As(err, &limit) {
		t.Errorf("a second role: %v, want LimitExceeded", err)
	}
	got := need(c.GetInstanceProfile(ctx, &iam.GetInstanceProfileInput{InstanceProfileName: aws.String("web")})).on(t).InstanceProfile
	if len(got.Roles) != 1 || aws.ToString(got.Roles[0].RoleName) != "web" {
		t.Fatalf("roles %+v", got.Roles)
	}
	if doc, _ := url.QueryUnescape(aws.ToString(got.Roles[0].AssumeRolePolicyDocument)); doc != ec2Trust {
		t.Errorf("trust policy %s", doc)
	}
	var conflict *iamtypes.DeleteConflictException
	if _, err := c.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("web")}); !errors.As(err, &conflict) {
		t.Errorf("delete a role in a profile: %v", err)
	}
	if _, err := c.DeleteInstanceProfile(ctx, &iam.DeleteInstanceProfileInput{InstanceProfileName: aws.String("web")}); !errors.As(err, &conflict) {
		t.Errorf("delete a profile with a role: %v", err)
	}
	need(c.RemoveRoleFromInstanceProfile(ctx, &iam.RemoveRoleFromInstanceProfileInput{InstanceProfileName: aws.String("web"), RoleName: aws.String("web")})).on(t)
	need(c.DeleteInstanceProfile(ctx, &iam.DeleteInstanceProfileInput{InstanceProfileName: aws.String("web")})).on(t)
	var missing *iamtypes.NoSuchEntityException
	if _, err := c.GetInstanceProfile(ctx, &iam.GetInstanceProfileInput{InstanceProfileName: aws.String("web")}); !errors.As(err, &missing) {
		t.Errorf("deleted profile: %v", err)
	}
}
