package precheck

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/jibe-dev/jibe/internal/awsemu"
	"github.com/jibe-dev/jibe/internal/awsemu/awsemutest"
	"github.com/jibe-dev/jibe/reconcile"
)

func clients(env *awsemutest.Env) Clients {
	return Clients{IAM: env.IAM(), ECR: env.ECR(), Secrets: env.SecretsManager(), SSM: env.SSM(), ELB: env.ELBv2(), EC2: env.EC2()}
}

// Check reports missing and unreadable references at their fields, in
// the order of the lookups, and nothing for references that exist.
func TestCheck(t *testing.T) {
	env := awsemutest.Start(t, awsemu.Options{})
	ctx := context.Background()
	if _, err := env.IAM().CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("exec"), AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[]}`)}); err != nil {
		t.Fatal(err)
	}
	sc := Scope{Account: awsemutest.Account, Region: awsemutest.Region}
	rs := &Refs{
		Roles:   []Ref{{Field: "executionRoleArn", ID: "arn:aws:iam::" + sc.Account + ":role/exec"}, {Field: "taskRoleArn", ID: "arn:aws:iam::" + sc.Account + ":role/nope"}},
		Subnets: []Ref{{Field: "subnets[0]", ID: "subnet-1"}},
	}
	env.Emu.Inject(awsemu.Fault{Service: "ec2", Operation: "DescribeSubnets", Kind: awsemu.Deny})
	problems, err := Check(ctx, clients(env), sc, rs)
	if err != nil {
		t.Fatal(err)
	}
	want := []reconcile.Problem{
		{Field: "taskRoleArn", Message: "role arn:aws:iam::" + sc.Account + ":role/nope does not exist in account " + sc.Account + ": create it or fix the ARN"},
		{Field: "subnets[0]", Message: "the agent's role cannot read subnet subnet-1: grant it ec2:DescribeSubnets"},
	}
	if len(problems) != len(want) || problems[0] != want[0] || problems[1] != want[1] {
		t.Errorf("got %v\nwant %v", problems, want)
	}
	if none, err := Check(ctx, clients(env), sc, &Refs{}); err != nil || len(none) != 0 {
		t.Errorf("no references: %v, %v", none, err)
	}
}
