package lambda

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/jibe-dev/jibe/spec"
)

const lambdaTrust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`

// references creates what fn refers to: its role (trusting service), its
// package, a subnet and a security group; it sets fn's VPC to them.
func (r *rig) references(fn func() *spec.LambdaFunction, trust string) *spec.LambdaFunction {
	r.t.Helper()
	f := fn()
	if _, err := r.env.IAM().CreateRole(r.ctx, &iam.CreateRoleInput{RoleName: aws.String("orders"), AssumeRolePolicyDocument: aws.String(trust)}); err != nil {
		r.t.Fatal(err)
	}
	if _, err := r.env.S3().CreateBucket(r.ctx, &s3.CreateBucketInput{Bucket: aws.String(f.Code.S3Bucket)}); err != nil {
		r.t.Fatal(err)
	}
	if _, err := r.env.S3().PutObject(r.ctx, &s3.PutObjectInput{Bucket: aws.String(f.Code.S3Bucket), Key: aws.String(f.Code.S3Key), Body: strings.NewReader("zip")}); err != nil {
		r.t.Fatal(err)
	}
	sub, err := r.env.EC2().CreateSubnet(r.ctx, &ec2.CreateSubnetInput{VpcId: aws.String("vpc-1"), CidrBlock: aws.String("10.0.1.0/24")})
	if err != nil {
		r.t.Fatal(err)
	}
	sg, err := r.env.EC2().CreateSecurityGroup(r.ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("orders"), Description: aws.String("orders"), VpcId: aws.String("vpc-1")})
	if err != nil {
		r.t.Fatal(err)
	}
	f.VpcConfig = &spec.LambdaVpcConfig{SubnetIds: []string{aws.ToString(sub.Subnet.SubnetId)}, SecurityGroupIds: []string{aws.ToString(sg.GroupId)}}
	return f
}

func TestPrecheckFindsNothingWhenEverythingExists(t *testing.T) {
	r := newRig(t, Options{})
	fn := r.references(func() *spec.LambdaFunction { return function("orders-1.zip") }, lambdaTrust)
	layer, err := r.fn.PublishLayerVersion(r.ctx, &awslambda.PublishLayerVersionInput{LayerName: aws.String("otel"),
		Content: &types.LayerVersionContentInput{S3Bucket: aws.String("artifacts"), S3Key: aws.String("otel.zip")}})
	if err != nil {
		t.Fatal(err)
	}
	fn.Layers = []string{aws.ToString(layer.LayerVersionArn), "arn:aws:lambda:us-east-1:580247275435:layer:LambdaInsightsExtension:20"}
	r.env.Emu.ResetRequests()
	problems, err := r.p.Precheck(r.ctx, r.deployment("rev1", fn, nil))
	if err != nil || len(problems) != 0 {
		t.Fatalf("precheck = %v, %v; want no problem", problems, err)
	}
	if w := r.env.Emu.WriteCalls(); len(w) != 0 {
		t.Errorf("precheck made write calls: %+v", w)
	}
}

func TestPrecheckFindsMissingReferencesAndAnUntrustingRole(t *testing.T) {
	r := newRig(t, Options{})
	ecsTrust := strings.Replace(lambdaTrust, "lambda.amazonaws.com", "ecs-tasks.amazonaws.com", 1)
	fn := r.references(func() *spec.LambdaFunction { return function("orders-1.zip") }, ecsTrust)
	fn.Code.S3Key = "orders-9.zip"
	fn.VpcConfig.SubnetIds = append(fn.VpcConfig.SubnetIds, "subnet-0missing")
	fn.Layers = []string{"arn:aws:lambda:us-east-1:111111111111:layer:otel:7"}
	d := r.deployment("rev1", fn, nil)
	d.Target.Lambda.TargetGroupArn = "arn:aws:elasticloadbalancing:us-east-1:111111111111:targetgroup/gone/1"
	problems, err := r.p.Precheck(r.ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"api: function.Role: role arn:aws:iam::111111111111:role/orders does not trust lambda.amazonaws.com",
		"api: lambda.targetGroupArn: target group arn:aws:elasticloadbalancing:us-east-1:111111111111:targetgroup/gone/1 does not exist",
		"api: function.VpcConfig.SubnetIds[1]: subnet subnet-0missing does not exist",
		"api: function.Code.S3Key: S3 object s3://artifacts/orders-9.zip does not exist",
		"api: function.Layers[0]: layer version arn:aws:lambda:us-east-1:111111111111:layer:otel:7 does not exist",
	}
	if len(problems) != len(want) {
		t.Fatalf("problems:\n%v\nwant %d", problems, len(want))
	}
	for i, p := range problems {
		if !strings.HasPrefix(p.String(), want[i]) {
			t.Errorf("problem %d = %q, want it to start with %q", i, p, want[i])
		}
	}
}

func TestPrecheckFindsAMissingDeadLetterTarget(t *testing.T) {
	r := newRig(t, Options{})
	if _, err := r.env.SQS().CreateQueue(r.ctx, &sqs.CreateQueueInput{QueueName: aws.String("orders-dlq")}); err != nil {
		t.Fatal(err)
	}
	fn := r.references(func() *spec.LambdaFunction { return function("orders-1.zip") }, lambdaTrust)
	for target, want := range map[string]string{
		"arn:aws:sqs:us-east-1:111111111111:orders-dlq":  "",
		"arn:aws:sqs:us-east-1:111111111111:gone":        "api: function.DeadLetterConfig.TargetArn: SQS queue arn:aws:sqs:us-east-1:111111111111:gone does not exist in account 111111111111, region us-east-1: create it or fix the ARN",
		"arn:aws:sns:us-east-1:111111111111:orders-fail": "api: function.DeadLetterConfig.TargetArn: SNS topic arn:aws:sns:us-east-1:111111111111:orders-fail does not exist in account 111111111111, region us-east-1: create it or fix the ARN",
	} {
		fn.DeadLetterConfig = &spec.LambdaDeadLetterConfig{TargetArn: target}
		problems, err := r.p.Precheck(r.ctx, r.deployment("rev1", fn, nil))
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, p := range problems {
			got = append(got, p.String())
		}
		if strings.Join(got, "\n") != want {
			t.Errorf("dead letter %s: problems\n%s\nwant\n%s", target, strings.Join(got, "\n"), want)
		}
	}
}
