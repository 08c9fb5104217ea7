package ecs

import (
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/jibe-dev/jibe/internal/awsemu"
	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/spec"
)

const (
	webImage = "111111111111.dkr.ecr.us-east-1.amazonaws.com/web:v1"
	taskRole = "arn:aws:iam::111111111111:role/service/web-task"
)

// references is what a precheck deployment refers to, created in the
// emulator.
type references struct {
	dbSecret, registrySecret string
	subnets                  []string
	group                    string
}

// createReferences creates the roles, image, secrets, parameter, subnets
// and security group of checkedDeployment.
func (r *rig) createReferences() references {
	env, ctx := r.env, r.ctx
	trust := aws.String(`{"Version":"2012-10-17","Statement":[]}`)
	must(r.t)(env.IAM().CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("exec"), AssumeRolePolicyDocument: trust}))
	must(r.t)(env.IAM().CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("web-task"), Path: aws.String("/service/"), AssumeRolePolicyDocument: trust}))
	must(r.t)(env.ECR().CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String("web")}))
	must(r.t)(env.ECR().PutImage(ctx, &ecr.PutImageInput{RepositoryName: aws.String("web"), ImageManifest: aws.String(`{"schemaVersion":2}`), ImageTag: aws.String("v1")}))
	var refs references
	for name, arn := range map[string]*string{"shop/db": &refs.dbSecret, "registry": &refs.registrySecret} {
		out, err := env.SecretsManager().CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(name), SecretString: aws.String("{}")})
		if err != nil {
			r.t.Fatal(err)
		}
		*arn = aws.ToString(out.ARN)
	}
	must(r.t)(env.SSM().PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/shop/api-key"), Value: aws.String("k"), Type: ssmtypes.ParameterTypeSecureString}))
	for _, cidr := range []string{"10.0.1.0/24", "10.0.2.0/24"} {
		out, err := env.EC2().CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: aws.String("vpc-1"), CidrBlock: aws.String(cidr)})
		if err != nil {
			r.t.Fatal(err)
		}
		refs.subnets = append(refs.subnets, aws.ToString(out.Subnet.SubnetId))
	}
	sg, err := env.EC2().CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("web"), Description: aws.String("web"), VpcId: aws.String("vpc-1")})
	if err != nil {
		r.t.Fatal(err)
	}
	refs.group = aws.ToString(sg.GroupId)
	return refs
}

// checkedDeployment is a canary deployment of an ECR image with a task
// role, a Secrets Manager secret (with ECS's JSON-key suffix), an SSM
// parameter, a sidecar from Docker Hub with registry credentials, and a
// service in created subnets and security group.
func (r *rig) checkedDeployment(refs references) *reconcile.Deployment {
	d := r.deployment("rev1", webImage, &spec.Strategy{Canary: &spec.Canary{}})
	td := d.Target.TaskDefinition
	td.TaskRoleArn = taskRole
	td.ContainerDefinitions[0].Secrets = []spec.Secret{{Name: "DB_PASSWORD", ValueFrom: refs.dbSecret + ":password::"}, {Name: "API_KEY", ValueFrom: "/shop/api-key"}}
	td.ContainerDefinitions = append(td.ContainerDefinitions, spec.ContainerDefinition{Name: "proxy", Image: "docker.io/envoyproxy/envoy:v1.31",
		RepositoryCredentials: &spec.RepositoryCredentials{CredentialsParameter: refs.registrySecret}})
	d.Target.Service.NetworkConfiguration.AwsvpcConfiguration.Subnets = append([]string(nil), refs.subnets...)
	d.Target.Service.NetworkConfiguration.AwsvpcConfiguration.SecurityGroups = []string{refs.group}
	return d
}

// A deployment whose references all exist has no problem, and checking it
// reads in batches and writes nothing.
func TestPrecheckFindsNothingWhenEverythingExists(t *testing.T) {
	r := newRig(t)
	d := r.checkedDeployment(r.createReferences())
	r.env.Emu.ResetRequests()
	r.ops.reset()
	problems, err := r.p.Precheck(r.ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	if len(problems) != 0 {
		t.Errorf("problems: %v", problems)
	}
	if w := r.writes(); len(w) != 0 {
		t.Errorf("precheck wrote: %v", w)
	}
	for op, want := range map[string]int{"DescribeTargetGroups": 1, "DescribeSubnets": 1, "DescribeSecurityGroups": 1, "GetParameters": 1,
		"DescribeImages": 1, "GetRole": 2, "DescribeSecret": 2, "DescribeListeners": 1, "GetCallerIdentity": 1} {
		if got := r.ops.get(op); got != want {
			t.Errorf("%s called %d times, want %d", op, got, want)
		}
	}
}

// Each missing reference is one problem at its field, saying what to do.
func TestPrecheckReportsEachMissingReference(t *testing.T) {
	r := newRig(t)
	refs := r.createReferences()
	gone := strings.Replace(r.blue, "targetgroup/blue/", "targetgroup/gone/", 1)
	const where = "in account 111111111111, region us-east-1: "
	tests := []struct {
		name   string
		change func(d *reconcile.Deployment)
		field  string
		msg    string
	}{
		{"execution role", func(d *reconcile.Deployment) {
			d.Target.TaskDefinition.ExecutionRoleArn = "arn:aws:iam::111111111111:role/nope"
		},
			"taskDefinition.executionRoleArn", "role arn:aws:iam::111111111111:role/nope does not exist in account 111111111111: create it or fix the ARN"},
		{"task role", func(d *reconcile.Deployment) {
			d.Target.TaskDefinition.TaskRoleArn = "arn:aws:iam::111111111111:role/web-task"
		},
			"taskDefinition.taskRoleArn", "role arn:aws:iam::111111111111:role/web-task does not exist in account 111111111111: create it or fix the ARN"},
		{"image tag", func(d *reconcile.Deployment) {
			d.Target.TaskDefinition.ContainerDefinitions[0].Image = strings.Replace(webImage, ":v1", ":v2", 1)
		}, "taskDefinition.containerDefinitions[web].image", "image " + strings.Replace(webImage, ":v1", ":v2", 1) + " does not exist " + where + "push it or fix the image reference"},
		{"image repository", func(d *reconcile.Deployment) {
			d.Target.TaskDefinition.ContainerDefinitions[0].Image = "111111111111.dkr.ecr.us-east-1.amazonaws.com/api@sha256:" + strings.Repeat("a", 64)
		}, "taskDefinition.containerDefinitions[web].image", "image 111111111111.dkr.ecr.us-east-1.amazonaws.com/api@sha256:" + strings.Repeat("a", 64) + " does not exist " + where + "push it or fix the image reference"},
		{"secret", func(d *reconcile.Deployment) {
			d.Target.TaskDefinition.ContainerDefinitions[0].Secrets[0].ValueFrom = "arn:aws:secretsmanager:us-east-1:111111111111:secret:shop/nope-AbCdEf:password::"
		}, "taskDefinition.containerDefinitions[web].secrets[DB_PASSWORD]", "secret arn:aws:secretsmanager:us-east-1:111111111111:secret:shop/nope-AbCdEf does not exist " + where + "create it or fix the ARN"},
		{"parameter", func(d *reconcile.Deployment) {
			d.Target.TaskDefinition.ContainerDefinitions[0].Secrets[1].ValueFrom = "arn:aws:ssm:us-east-1:111111111111:parameter/shop/nope"
		}, "taskDefinition.containerDefinitions[web].secrets[API_KEY]", "SSM parameter arn:aws:ssm:us-east-1:111111111111:parameter/shop/nope does not exist " + where + "create it or fix the name"},
		{"registry credentials", func(d *reconcile.Deployment) {
			d.Target.TaskDefinition.ContainerDefinitions[1].RepositoryCredentials.CredentialsParameter = "registry-old"
		}, "taskDefinition.containerDefinitions[proxy].repositoryCredentials.credentialsParameter", "secret registry-old does not exist " + where + "create it or fix the ARN"},
		{"service target group", func(d *reconcile.Deployment) { d.Target.Service.LoadBalancers[0].TargetGroupArn = gone },
			"service.loadBalancers[0].targetGroupArn", "target group " + gone + " does not exist " + where + "create it or fix the ARN"},
		{"canary target group", func(d *reconcile.Deployment) { d.Target.ECS.Traffic.CanaryTargetGroupArn = gone },
			"traffic.canaryTargetGroupArn", "target group " + gone + " does not exist " + where + "create it or fix the ARN"},
		{"listener", func(d *reconcile.Deployment) { d.Target.ECS.Traffic.ListenerArn += "0" },
			"traffic.listenerArn", "listener " + r.listener + "0 does not exist " + where + "create it or fix traffic.listenerArn"},
		{"subnet", func(d *reconcile.Deployment) {
			d.Target.Service.NetworkConfiguration.AwsvpcConfiguration.Subnets[1] = "subnet-0404"
		}, "service.networkConfiguration.awsvpcConfiguration.subnets[1]", "subnet subnet-0404 does not exist " + where + "fix the subnet ID"},
		{"security group", func(d *reconcile.Deployment) {
			d.Target.Service.NetworkConfiguration.AwsvpcConfiguration.SecurityGroups[0] = "sg-0404"
		}, "service.networkConfiguration.awsvpcConfiguration.securityGroups[0]", "security group sg-0404 does not exist " + where + "fix the security group ID"},
	}
	must(t)(r.env.IAM().DeleteRole(r.ctx, &iam.DeleteRoleInput{RoleName: aws.String("web-task")}))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := r.checkedDeployment(refs)
			d.Target.TaskDefinition.TaskRoleArn = ""
			tt.change(d)
			problems, err := r.p.Precheck(r.ctx, d)
			if err != nil {
				t.Fatal(err)
			}
			want := []reconcile.Problem{{Target: "web", Field: tt.field, Message: tt.msg}}
			if len(problems) != 1 || problems[0] != want[0] {
				t.Errorf("got %v\nwant %v", problems, want)
			}
		})
	}
}

// References the platform cannot see (another account, another region,
// another registry) are not checked.
func TestPrecheckSkipsOtherAccountsAndRegistries(t *testing.T) {
	r := newRig(t)
	d := r.checkedDeployment(r.createReferences())
	td := d.Target.TaskDefinition
	td.ExecutionRoleArn = "arn:aws:iam::222222222222:role/exec"
	td.ContainerDefinitions[0].Image = "222222222222.dkr.ecr.us-east-1.amazonaws.com/web:v9"
	td.ContainerDefinitions[0].Secrets[0].ValueFrom = "arn:aws:secretsmanager:eu-west-1:111111111111:secret:other-AbCdEf"
	problems, err := r.p.Precheck(r.ctx, d)
	if err != nil || len(problems) != 0 {
		t.Errorf("got %v, %v; want no problem", problems, err)
	}
}

// A secret scheduled for deletion cannot be read by ECS: a problem.
func TestPrecheckReportsSecretsScheduledForDeletion(t *testing.T) {
	r := newRig(t)
	refs := r.createReferences()
	must(t)(r.env.SecretsManager().DeleteSecret(r.ctx, &secretsmanager.DeleteSecretInput{SecretId: aws.String("shop/db")}))
	problems, err := r.p.Precheck(r.ctx, r.checkedDeployment(refs))
	if err != nil {
		t.Fatal(err)
	}
	want := "secret " + refs.dbSecret + " is scheduled for deletion: restore it or create it or fix the ARN"
	if len(problems) != 1 || problems[0].Field != "taskDefinition.containerDefinitions[web].secrets[DB_PASSWORD]" || problems[0].Message != want {
		t.Errorf("got %v, want one problem %q", problems, want)
	}
}

// What the agent's role may not read is a problem naming the permission;
// a lookup that keeps failing otherwise is an error.
func TestPrecheckAccessDeniedIsAProblem(t *testing.T) {
	r := newRig(t)
	d := r.checkedDeployment(r.createReferences())
	r.env.Emu.Inject(awsemu.Fault{Service: "ec2", Operation: "DescribeSubnets", Kind: awsemu.Deny})
	r.env.Emu.Inject(awsemu.Fault{Service: "ecr", Operation: "DescribeImages", Kind: awsemu.Deny})
	problems, err := r.p.Precheck(r.ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	want := []reconcile.Problem{
		{Target: "web", Field: "taskDefinition.containerDefinitions[web].image", Message: "the agent's role cannot read image " + webImage + ": grant it ecr:DescribeImages"},
	}
	for i, s := range d.Target.Service.NetworkConfiguration.AwsvpcConfiguration.Subnets {
		want = append(want, reconcile.Problem{Target: "web", Field: "service.networkConfiguration.awsvpcConfiguration.subnets[" + strconv.Itoa(i) + "]",
			Message: "the agent's role cannot read subnet " + s + ": grant it ec2:DescribeSubnets"})
	}
	if len(problems) != len(want) {
		t.Fatalf("got %v\nwant %v", problems, want)
	}
	for i := range want {
		if problems[i] != want[i] {
			t.Errorf("problem %d: got %v\nwant %v", i, problems[i], want[i])
		}
	}
	r.env.Emu.ClearFaults()
	r.env.Emu.Inject(awsemu.Fault{Service: "secretsmanager", Kind: awsemu.ServerError})
	if _, err := r.p.Precheck(r.ctx, d); err == nil {
		t.Error("a failing Secrets Manager: got no error")
	}
}
