package awsemu_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
)

// refusal is a request AWS refuses: the error code and the start of the
// message its API reference (or the service itself) gives.
type refusal struct {
	code, message string
}

// check fails the test unless err is the refusal.
func (w refusal) check(t *testing.T, name string, err error) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != w.code || !strings.HasPrefix(ae.ErrorMessage(), w.message) {
		t.Errorf("%s: got %v; want %s: %s…", name, err, w.code, w.message)
	}
}

// Lambda refuses environments over 4 KB (measured as their JSON), reserved
// variable names and keys outside its pattern, and function names outside
// its pattern, as AWS does, on create and on update.
func TestLambdaRefusesEnvironmentsAndNamesAWSRefuses(t *testing.T) {
	ctx := context.Background()
	env := start(t)
	c := env.Lambda()
	base := func(name string, vars map[string]string) *lambda.CreateFunctionInput {
		return &lambda.CreateFunctionInput{FunctionName: aws.String(name), Role: aws.String("arn:aws:iam::111111111111:role/fn"),
			Runtime: lambdatypes.RuntimeProvidedal2023, Handler: aws.String("bootstrap"), Code: &lambdatypes.FunctionCode{ZipFile: []byte("v1")},
			Environment: &lambdatypes.Environment{Variables: vars}}
	}
	tooBig := map[string]string{"BLOB": strings.Repeat("x", 4096-len(`{"BLOB":""}`)+1)}
	fits := map[string]string{"BLOB": strings.Repeat("x", 4096-len(`{"BLOB":""}`))}
	envTooBig := refusal{"InvalidParameterValueException", "Lambda was unable to configure your environment variables because the environment variables you have provided exceeded the 4KB limit. String measured: {\"BLOB\":"}
	reserved := refusal{"InvalidParameterValueException", "Lambda was unable to configure your environment variables because the environment variables you have provided contains reserved keys that are currently not supported for modification. Reserved keys used in this request: AWS_REGION"}
	badKey := refusal{"ValidationException", "1 validation error detected: Value at 'environment.variables' failed to satisfy constraint: Map keys must satisfy constraint: [Member must satisfy regular expression pattern: [a-zA-Z]([a-zA-Z0-9_])+]"}
	badName := refusal{"ValidationException", "1 validation error detected: Value 'my.api' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern:"}
	for name, tc := range map[string]struct {
		in   *lambda.CreateFunctionInput
		want refusal
	}{
		"environment over 4 KB":   {base("api", tooBig), envTooBig},
		"reserved variable":       {base("api", map[string]string{"MODE": "x", "AWS_REGION": "eu-west-1"}), reserved},
		"key with a hyphen":       {base("api", map[string]string{"LOG-LEVEL": "debug"}), badKey},
		"key starting with digit": {base("api", map[string]string{"1MODE": "x"}), badKey},
		"name with a dot":         {base("my.api", nil), badName},
	} {
		_, err := c.CreateFunction(ctx, tc.in)
		tc.want.check(t, "create with "+name, err)
	}
	need(c.CreateFunction(ctx, base("api", fits))).on(t)
	waitActive(t, env, c, "api")
	update := func(vars map[string]string) error {
		_, err := c.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String("api"),
			Environment: &lambdatypes.Environment{Variables: vars}})
		return err
	}
	envTooBig.check(t, "update with an environment over 4 KB", update(tooBig))
	reserved.check(t, "update with a reserved variable", update(map[string]string{"AWS_REGION": "eu-west-1"}))
	badKey.check(t, "update with a hyphenated key", update(map[string]string{"LOG-LEVEL": "debug"}))
}

// RegisterTaskDefinition refuses family and container names outside ECS's
// pattern, and EC2 containers without memory when the task sets none, as
// AWS does.
func TestECSTaskDefinitionNamesAndMemoryAsAWSValidatesThem(t *testing.T) {
	ctx := context.Background()
	c := start(t).ECS()
	ec2Task := func(family, container string, memory *int32) *ecs.RegisterTaskDefinitionInput {
		return &ecs.RegisterTaskDefinitionInput{Family: aws.String(family), ContainerDefinitions: []ecstypes.ContainerDefinition{
			{Name: aws.String(container), Image: aws.String("nginx"), Memory: memory}}}
	}
	for name, tc := range map[string]struct {
		in   *ecs.RegisterTaskDefinitionInput
		want refusal
	}{
		"family with a dot":         {ec2Task("my.app", "web", aws.Int32(256)), refusal{"ClientException", "Family contains invalid characters."}},
		"family with a slash":       {ec2Task("team/app", "web", aws.Int32(256)), refusal{"ClientException", "Family contains invalid characters."}},
		"family over 255":           {ec2Task(strings.Repeat("a", 256), "web", aws.Int32(256)), refusal{"ClientException", "Family"}},
		"container name with space": {ec2Task("app", "my web", aws.Int32(256)), refusal{"ClientException", "Container.name contains invalid characters."}},
		"no memory anywhere":        {ec2Task("app", "web", nil), refusal{"ClientException", "Invalid setting for container 'web'. At least one of 'memory' or 'memoryReservation' must be specified."}},
	} {
		_, err := c.RegisterTaskDefinition(ctx, tc.in)
		tc.want.check(t, name, err)
	}
	accepted := []*ecs.RegisterTaskDefinitionInput{
		ec2Task("My_app-2", "web_1-a", aws.Int32(256)),
		ec2Task(strings.Repeat("a", 255), strings.Repeat("b", 255), aws.Int32(256)),
		{Family: aws.String("app"), Memory: aws.String("512"), ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("web"), Image: aws.String("nginx")}}},
		{Family: aws.String("app"), ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("web"), Image: aws.String("nginx"), MemoryReservation: aws.Int32(128)}}},
	}
	for i, in := range accepted {
		if _, err := c.RegisterTaskDefinition(ctx, in); err != nil {
			t.Errorf("valid task definition %d refused: %v", i, err)
		}
	}
}

// CreateService refuses load balancers naming a container or port the task
// definition lacks, and target groups whose target type does not fit the
// task's network mode, with ECS's messages.
func TestECSServiceLoadBalancersMustFitTheTaskDefinition(t *testing.T) {
	ctx := context.Background()
	env := start(t)
	c, lbs := env.ECS(), env.ELBv2()
	w := newWeb(t, ctx, lbs) // ip target groups
	instanceTG := need(lbs.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{Name: aws.String("by-instance"), Protocol: elbtypes.ProtocolEnumHttp,
		Port: aws.Int32(8080), VpcId: aws.String("vpc-1"), TargetType: elbtypes.TargetTypeEnumInstance})).on(t).TargetGroups[0].TargetGroupArn
	need(lbs.CreateRule(ctx, &elbv2.CreateRuleInput{ListenerArn: aws.String(w.listener), Priority: aws.Int32(1),
		Conditions: []elbtypes.RuleCondition{{Field: aws.String("path-pattern"), Values: []string{"/i/*"}}},
		Actions:    []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: instanceTG}}})).on(t)
	need(c.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("prod")})).on(t)
	awsvpcTD := registerApp(t, ctx, c, "nginx") // container web, port 8080
	bridgeTD := *need(c.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("bridged"), ContainerDefinitions: []ecstypes.ContainerDefinition{{
		Name: aws.String("web"), Image: aws.String("nginx"), Memory: aws.Int32(256), PortMappings: []ecstypes.PortMapping{{ContainerPort: aws.Int32(8080)}}}}})).on(t).TaskDefinition.TaskDefinitionArn
	service := func(name, td, tg, container string, port int32) *ecs.CreateServiceInput {
		in := &ecs.CreateServiceInput{Cluster: aws.String("prod"), ServiceName: aws.String(name), TaskDefinition: aws.String(td), DesiredCount: aws.Int32(1),
			LoadBalancers: []ecstypes.LoadBalancer{{TargetGroupArn: aws.String(tg), ContainerName: aws.String(container), ContainerPort: aws.Int32(port)}}}
		if td == awsvpcTD {
			in.LaunchType, in.NetworkConfiguration = ecstypes.LaunchTypeFargate, awsvpc()
		}
		return in
	}
	for name, tc := range map[string]struct {
		in   *ecs.CreateServiceInput
		want refusal
	}{
		"unknown container": {service("a", awsvpcTD, w.blue, "api", 8080), refusal{"InvalidParameterException", "The container api does not exist in the task definition."}},
		"unmapped port":     {service("b", awsvpcTD, w.blue, "web", 80), refusal{"InvalidParameterException", "The container web did not have a container port 80 defined."}},
		"awsvpc, instance target group": {service("c", awsvpcTD, *instanceTG, "web", 8080),
			refusal{"InvalidParameterException", "The provided target group " + *instanceTG + " has target type instance, which is incompatible with the awsvpc network mode specified in the task definition."}},
		"bridge, ip target group": {service("d", bridgeTD, w.blue, "web", 8080),
			refusal{"InvalidParameterException", "The provided target group " + w.blue + " has target type ip, which is incompatible with the bridge network mode specified in the task definition."}},
	} {
		_, err := c.CreateService(ctx, tc.in)
		tc.want.check(t, name, err)
	}
	need(c.CreateService(ctx, service("ok", awsvpcTD, w.blue, "web", 8080))).on(t)
}

// ELBv2 refuses target group and load balancer names longer than 32
// characters, with characters other than letters, digits and hyphens, or
// beginning or ending with a hyphen (and load balancers beginning with
// "internal-"), with ValidationError naming the name.
func TestELBv2NamesAsAWSValidatesThem(t *testing.T) {
	ctx := context.Background()
	c := start(t).ELBv2()
	long := strings.Repeat("a", 33)
	tg := func(name string) error {
		_, err := c.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{Name: aws.String(name), Protocol: elbtypes.ProtocolEnumHttp,
			Port: aws.Int32(80), VpcId: aws.String("vpc-1")})
		return err
	}
	lb := func(name string) error {
		_, err := c.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{Name: aws.String(name), Subnets: []string{"subnet-a", "subnet-b"}})
		return err
	}
	for name, want := range map[string]refusal{
		long:       {"ValidationError", "Target group name '" + long + "' cannot be longer than '32' characters"},
		"web_blue": {"ValidationError", "Target group name 'web_blue' can only contain characters that are alphanumeric characters or hyphens(-)"},
		"web.blue": {"ValidationError", "Target group name 'web.blue' can only contain characters that are alphanumeric characters or hyphens(-)"},
		"-blue":    {"ValidationError", "Target group name '-blue' cannot begin or end with '-'"},
		"blue-":    {"ValidationError", "Target group name 'blue-' cannot begin or end with '-'"},
	} {
		want.check(t, "target group "+name, tg(name))
	}
	for name, want := range map[string]refusal{
		long:           {"ValidationError", "The load balancer name '" + long + "' cannot be longer than '32' characters"},
		"web_lb":       {"ValidationError", "The load balancer name 'web_lb' can only contain characters that are alphanumeric characters or hyphens(-)"},
		"web-":         {"ValidationError", "The load balancer name 'web-' cannot begin or end with '-'"},
		"internal-web": {"ValidationError", "The load balancer name 'internal-web' cannot begin with 'internal-'"},
	} {
		want.check(t, "load balancer "+name, lb(name))
	}
	for _, name := range []string{strings.Repeat("b", 32), "Blue-2"} {
		if err := tg(name); err != nil {
			t.Errorf("valid target group name %q refused: %v", name, err)
		}
		if err := lb(name); err != nil {
			t.Errorf("valid load balancer name %q refused: %v", name, err)
		}
	}
}

// StartInstanceRefresh refuses preferences outside RefreshPreferences'
// ranges: MinHealthyPercentage 0..100, MaxHealthyPercentage 100..200 and
// at most 100 above the minimum, InstanceWarmup not negative.
func TestInstanceRefreshPreferencesAsAWSValidatesThem(t *testing.T) {
	ctx := context.Background()
	_, as := webGroup(t, ctx, 1, 2)
	refresh := func(p astypes.RefreshPreferences) error {
		_, err := as.StartInstanceRefresh(ctx, &autoscaling.StartInstanceRefreshInput{AutoScalingGroupName: aws.String("web"), Preferences: &p})
		return err
	}
	for name, tc := range map[string]struct {
		p    astypes.RefreshPreferences
		want refusal
	}{
		"min healthy 101": {astypes.RefreshPreferences{MinHealthyPercentage: aws.Int32(101)},
			refusal{"ValidationError", "1 validation error detected: Value '101' at 'preferences.minHealthyPercentage' failed to satisfy constraint: Member must have value less than or equal to 100"}},
		"min healthy -1": {astypes.RefreshPreferences{MinHealthyPercentage: aws.Int32(-1)},
			refusal{"ValidationError", "1 validation error detected: Value '-1' at 'preferences.minHealthyPercentage' failed to satisfy constraint: Member must have value greater than or equal to 0"}},
		"max healthy 99": {astypes.RefreshPreferences{MaxHealthyPercentage: aws.Int32(99)},
			refusal{"ValidationError", "1 validation error detected: Value '99' at 'preferences.maxHealthyPercentage' failed to satisfy constraint: Member must have value greater than or equal to 100"}},
		"max healthy 201": {astypes.RefreshPreferences{MaxHealthyPercentage: aws.Int32(201)},
			refusal{"ValidationError", "1 validation error detected: Value '201' at 'preferences.maxHealthyPercentage' failed to satisfy constraint: Member must have value less than or equal to 200"}},
		"spread over 100": {astypes.RefreshPreferences{MinHealthyPercentage: aws.Int32(50), MaxHealthyPercentage: aws.Int32(160)},
			refusal{"ValidationError", "The difference between MaxHealthyPercentage and MinHealthyPercentage must be less than or equal to 100"}},
		"negative warmup": {astypes.RefreshPreferences{InstanceWarmup: aws.Int32(-5)},
			refusal{"ValidationError", "1 validation error detected: Value '-5' at 'preferences.instanceWarmup' failed to satisfy constraint: Member must have value greater than or equal to 0"}},
	} {
		tc.want.check(t, name, refresh(tc.p))
	}
	if err := refresh(astypes.RefreshPreferences{MinHealthyPercentage: aws.Int32(100), MaxHealthyPercentage: aws.Int32(200), InstanceWarmup: aws.Int32(0)}); err != nil {
		t.Fatalf("valid preferences refused: %v", err)
	}
}

// ECR refuses repository names shorter than 2 or longer than 256
// characters, or outside its pattern (lowercase letters, digits and
// separators), with InvalidParameterException, on create and on lookups.
func TestECRRepositoryNamesAsAWSValidatesThem(t *testing.T) {
	ctx := context.Background()
	c := start(t).ECR()
	pattern := refusal{"InvalidParameterException", "Invalid parameter at 'repositoryName' failed to satisfy constraint: 'must satisfy regular expression '(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*''"}
	for name, want := range map[string]refusal{
		"a":                      {"InvalidParameterException", "Invalid parameter at 'repositoryName' failed to satisfy constraint: 'must have length greater than or equal to 2'"},
		strings.Repeat("a", 257): {"InvalidParameterException", "Invalid parameter at 'repositoryName' failed to satisfy constraint: 'must have length less than or equal to 256'"},
		"Web":                    pattern,
		"team/web app":           pattern,
		"-web":                   pattern,
		"web/":                   pattern,
	} {
		_, err := c.CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String(name)})
		want.check(t, "create "+name, err)
	}
	_, err := c.DescribeImages(ctx, &ecr.DescribeImagesInput{RepositoryName: aws.String("Web")})
	pattern.check(t, "describe images of Web", err)
	for _, name := range []string{"web", "team/web-app", "team.a/web_app/v2"} {
		if _, err := c.CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String(name)}); err != nil {
			t.Errorf("valid repository name %q refused: %v", name, err)
		}
	}
}

// CreateAlias refuses names outside Lambda's pattern (all digits, dots,
// $LATEST, over 128 characters) and descriptions over 256 characters with
// ValidationException, as the API reference gives them.
func TestLambdaAliasNamesAsAWSValidatesThem(t *testing.T) {
	ctx := context.Background()
	env := start(t)
	c := env.Lambda()
	need(c.CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: aws.String("api"), Role: aws.String("arn:aws:iam::111111111111:role/fn"),
		Runtime: lambdatypes.RuntimeProvidedal2023, Handler: aws.String("bootstrap"), Code: &lambdatypes.FunctionCode{ZipFile: []byte("v1")}, Publish: true})).on(t)
	alias := func(name, description string) error {
		_, err := c.CreateAlias(ctx, &lambda.CreateAliasInput{FunctionName: aws.String("api"), Name: aws.String(name), FunctionVersion: aws.String("1"),
			Description: aws.String(description)})
		return err
	}
	pattern := func(name string) refusal {
		return refusal{"ValidationException", "1 validation error detected: Value '" + name + "' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: (?!^[0-9]+$)([a-zA-Z0-9-_]+)"}
	}
	for _, name := range []string{"12", "v1.2", "$LATEST"} {
		pattern(name).check(t, "alias "+name, alias(name, ""))
	}
	long := strings.Repeat("a", 129)
	refusal{"ValidationException", "1 validation error detected: Value '" + long + "' at 'name' failed to satisfy constraint: Member must have length less than or equal to 128"}.check(t, "alias of 129 characters", alias(long, ""))
	refusal{"ValidationException", "1 validation error detected: Value '" + strings.Repeat("d", 257) + "' at 'description' failed to satisfy constraint: Member must have length less than or equal to 256"}.check(t, "description of 257 characters", alias("live", strings.Repeat("d", 257)))
	if err := alias("live_2-b", strings.Repeat("d", 256)); err != nil {
		t.Fatalf("valid alias refused: %v", err)
	}
}

// AssumeRole refuses DurationSeconds outside 900..43200 with the model's
// ValidationError, and above the role's MaxSessionDuration (1 h unless
// the role sets more) with IAM's message.
func TestSTSAssumeRoleDurationAsAWSValidatesIt(t *testing.T) {
	ctx := context.Background()
	env := withRole(t) // role deployer in 222222222222, MaxSessionDuration 3600
	need(env.As("AKIAOTHER", "secret", "").IAM().CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("long"), MaxSessionDuration: aws.Int32(7200),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":"sts:AssumeRole"}]}`)})).on(t)
	c := env.STS()
	assume := func(role string, seconds int32) error {
		_, err := c.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::222222222222:role/" + role), RoleSessionName: aws.String("jibe"),
			DurationSeconds: aws.Int32(seconds)})
		return err
	}
	refusal{"ValidationError", "1 validation error detected: Value '899' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900"}.check(t, "899 s", assume("deployer", 899))
	refusal{"ValidationError", "1 validation error detected: Value '43201' at 'durationSeconds' failed to satisfy constraint: Member must have value less than or equal to 43200"}.check(t, "43201 s", assume("long", 43201))
	refusal{"ValidationError", "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."}.check(t, "3601 s of a 1 h role", assume("deployer", 3601))
	for role, seconds := range map[string]int32{"deployer": 3600, "long": 7200} {
		if err := assume(role, seconds); err != nil {
			t.Errorf("%d s of role %s refused: %v", seconds, role, err)
		}
	}
}

// A listener rule holds at most five condition values, counted across its
// conditions, on CreateRule and ModifyRule (ValidationError, AWS's words).
func TestELBv2RuleConditionValuesAreLimitedAsInAWS(t *testing.T) {
	ctx := context.Background()
	c := start(t).ELBv2()
	w := newWeb(t, ctx, c)
	paths := func(values ...string) elbtypes.RuleCondition {
		return elbtypes.RuleCondition{Field: aws.String("path-pattern"), PathPatternConfig: &elbtypes.PathPatternConditionConfig{Values: values}}
	}
	hosts := func(values ...string) elbtypes.RuleCondition {
		return elbtypes.RuleCondition{Field: aws.String("host-header"), HostHeaderConfig: &elbtypes.HostHeaderConditionConfig{Values: values}}
	}
	forward := []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: aws.String(w.blue)}}
	create := func(prio int32, conds ...elbtypes.RuleCondition) (*elbv2.CreateRuleOutput, error) {
		return c.CreateRule(ctx, &elbv2.CreateRuleInput{ListenerArn: aws.String(w.listener), Priority: aws.Int32(prio), Conditions: conds, Actions: forward})
	}
	tooMany := refusal{"ValidationError", "A rule can only have '5' condition values"}
	_, err := create(1, paths("/1", "/2", "/3", "/4", "/5", "/6"))
	tooMany.check(t, "six path patterns", err)
	_, err = create(2, paths("/1", "/2", "/3"), hosts("a.example.com", "b.example.com", "c.example.com"))
	tooMany.check(t, "three paths and three hosts", err)
	ok := need(create(3, paths("/1", "/2", "/3"), hosts("a.example.com", "b.example.com"))).on(t)
	_, err = c.ModifyRule(ctx, &elbv2.ModifyRuleInput{RuleArn: ok.Rules[0].RuleArn, Conditions: []elbtypes.RuleCondition{paths("/1", "/2", "/3", "/4", "/5", "/6")}})
	tooMany.check(t, "modify to six path patterns", err)
}

// PutFunctionConcurrency refuses a negative reservation with the model's
// ValidationException, and one leaving the account under 100 unreserved
// with InvalidParameterValueException.
func TestLambdaReservedConcurrencyAsAWSValidatesIt(t *testing.T) {
	ctx := context.Background()
	env := start(t)
	c := env.Lambda()
	createFunction(t, ctx, c, "api")
	put := func(n int32) error {
		_, err := c.PutFunctionConcurrency(ctx, &lambda.PutFunctionConcurrencyInput{FunctionName: aws.String("api"), ReservedConcurrentExecutions: aws.Int32(n)})
		return err
	}
	refusal{"ValidationException", "1 validation error detected: Value '-1' at 'reservedConcurrentExecutions' failed to satisfy constraint: Member must have value greater than or equal to 0"}.check(t, "-1", put(-1))
	refusal{"InvalidParameterValueException", "Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [100]."}.check(t, "1000", put(1000))
	if err := put(0); err != nil {
		t.Fatalf("a reservation of 0 (throttle everything) refused: %v", err)
	}
}

// ECS refuses a cluster name outside its pattern (a stray newline from a
// config file, a space, a dot) with InvalidParameterException naming it,
// rather than answering ClusterNotFoundException.
func TestECSClusterNamesAsAWSValidatesThem(t *testing.T) {
	ctx := context.Background()
	c := start(t).ECS()
	need(c.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("prod")})).on(t)
	for _, name := range []string{"prod\n", "my prod", "prod.eu"} {
		_, err := c.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(name), Services: []string{"web"}})
		refusal{"InvalidParameterException", "Cluster must match ^[a-zA-Z0-9\\-_]{1,255}$, but was " + name}.check(t, "describe services in "+name, err)
		_, err = c.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String(name)})
		refusal{"InvalidParameterException", "Cluster must match ^[a-zA-Z0-9\\-_]{1,255}$, but was " + name}.check(t, "create cluster "+name, err)
	}
	_, err := c.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String("arn:aws:ecs:us-east-1:111111111111:cluster/prod"), Services: []string{"web"}})
	if err != nil {
		t.Fatalf("cluster by ARN: %v", err)
	}
}

// RegisterTaskDefinition refuses port mappings without a container port,
// and awsvpc or host mappings whose host port differs from the container
// port, with ECS's ClientException messages.
func TestECSPortMappingsAsAWSValidatesThem(t *testing.T) {
	ctx := context.Background()
	c := start(t).ECS()
	td := func(mode ecstypes.NetworkMode, pm ecstypes.PortMapping) *ecs.RegisterTaskDefinitionInput {
		return &ecs.RegisterTaskDefinitionInput{Family: aws.String("app"), NetworkMode: mode, ContainerDefinitions: []ecstypes.ContainerDefinition{
			{Name: aws.String("web"), Image: aws.String("nginx"), Memory: aws.Int32(256), PortMappings: []ecstypes.PortMapping{pm}}}}
	}
	for name, tc := range map[string]struct {
		in   *ecs.RegisterTaskDefinitionInput
		want refusal
	}{
		"no container port": {td(ecstypes.NetworkModeBridge, ecstypes.PortMapping{HostPort: aws.Int32(8080)}),
			refusal{"ClientException", "Invalid 'containerPort' setting for container 'web'."}},
		"awsvpc 80 to 8080": {td(ecstypes.NetworkModeAwsvpc, ecstypes.PortMapping{ContainerPort: aws.Int32(8080), HostPort: aws.Int32(80)}),
			refusal{"ClientException", "When networkMode=awsvpc, the host ports and container ports in port mappings must match."}},
		"host 80 to 8080": {td(ecstypes.NetworkModeHost, ecstypes.PortMapping{ContainerPort: aws.Int32(8080), HostPort: aws.Int32(80)}),
			refusal{"ClientException", "When networkMode=host, the host ports and container ports in port mappings must match."}},
	} {
		_, err := c.RegisterTaskDefinition(ctx, tc.in)
		tc.want.check(t, name, err)
	}
	for i, in := range []*ecs.RegisterTaskDefinitionInput{
		td(ecstypes.NetworkModeAwsvpc, ecstypes.PortMapping{ContainerPort: aws.Int32(8080)}),
		td(ecstypes.NetworkModeAwsvpc, ecstypes.PortMapping{ContainerPort: aws.Int32(8080), HostPort: aws.Int32(8080)}),
		td(ecstypes.NetworkModeBridge, ecstypes.PortMapping{ContainerPort: aws.Int32(8080), HostPort: aws.Int32(80)}),
		td(ecstypes.NetworkModeBridge, ecstypes.PortMapping{ContainerPort: aws.Int32(8080), HostPort: aws.Int32(0)}),
	} {
		if _, err := c.RegisterTaskDefinition(ctx, in); err != nil {
			t.Errorf("valid port mapping %d refused: %v", i, err)
		}
	}
}

// Lambda refuses descriptions over 256 characters and handlers over 128
// characters or with whitespace (ValidationException, the model's wording),
// on create, update and PublishVersion.
func TestLambdaDescriptionAndHandlerAsAWSValidatesThem(t *testing.T) {
	ctx := context.Background()
	env := start(t)
	c := env.Lambda()
	long := strings.Repeat("d", 257)
	create := func(description, handler string) error {
		_, err := c.CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: aws.String("api"), Role: aws.String("arn:aws:iam::111111111111:role/fn"),
			Runtime: lambdatypes.RuntimeProvidedal2023, Handler: aws.String(handler), Description: aws.String(description), Code: &lambdatypes.FunctionCode{ZipFile: []byte("v1")}})
		return err
	}
	descTooLong := refusal{"ValidationException", "1 validation error detected: Value '" + long + "' at 'description' failed to satisfy constraint: Member must have length less than or equal to 256"}
	descTooLong.check(t, "create with a long description", create(long, "bootstrap"))
	refusal{"ValidationException", "1 validation error detected: Value 'my handler' at 'handler' failed to satisfy constraint: Member must satisfy regular expression pattern: [^\\s]+"}.check(t, "handler with a space", create("", "my handler"))
	refusal{"ValidationException", "1 validation error detected: Value '" + strings.Repeat("h", 129) + "' at 'handler' failed to satisfy constraint: Member must have length less than or equal to 128"}.check(t, "handler of 129", create("", strings.Repeat("h", 129)))
	if err := create(strings.Repeat("d", 256), "index.handler"); err != nil {
		t.Fatalf("valid function refused: %v", err)
	}
	waitActive(t, env, c, "api")
	_, err := c.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String("api"), Description: aws.String(long)})
	descTooLong.check(t, "update with a long description", err)
	_, err = c.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String("api"), Description: aws.String(long)})
	descTooLong.check(t, "publish with a long description", err)
}

// CreateRole refuses role names outside IAM's pattern or over 64
// characters, MaxSessionDuration outside 3600..43200 and paths not
// beginning and ending with a slash (ValidationError, AWS's wording).
func TestIAMCreateRoleAsAWSValidatesIt(t *testing.T) {
	ctx := context.Background()
	c := start(t).IAM()
	trust := aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)
	create := func(name, path string, maxSession int32) error {
		in := &iam.CreateRoleInput{RoleName: aws.String(name), AssumeRolePolicyDocument: trust}
		if path != "" {
			in.Path = aws.String(path)
		}
		if maxSession != 0 {
			in.MaxSessionDuration = aws.Int32(maxSession)
		}
		_, err := c.CreateRole(ctx, in)
		return err
	}
	long := strings.Repeat("r", 65)
	refusal{"ValidationError", "1 validation error detected: Value 'my role' at 'roleName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+"}.check(t, "name with a space", create("my role", "", 0))
	refusal{"ValidationError", "1 validation error detected: Value '" + long + "' at 'roleName' failed to satisfy constraint: Member must have length less than or equal to 64"}.check(t, "name of 65", create(long, "", 0))
	refusal{"ValidationError", "1 validation error detected: Value '1800' at 'maxSessionDuration' failed to satisfy constraint: Member must have value greater than or equal to 3600"}.check(t, "30 min sessions", create("a", "", 1800))
	refusal{"ValidationError", "1 validation error detected: Value '43201' at 'maxSessionDuration' failed to satisfy constraint: Member must have value less than or equal to 43200"}.check(t, "sessions over 12 h", create("b", "", 43201))
	refusal{"ValidationError", "The specified value for path is invalid. It must begin and end with / and contain only alphanumeric characters and/or / characters."}.check(t, "path without slashes", create("c", "service", 0))
	for _, name := range []string{"checkout-execution", "a.b@c=d,e+f_g", strings.Repeat("r", 64)} {
		if err := create(name, "/service-role/", 43200); err != nil {
			t.Errorf("valid role %q refused: %v", name, err)
		}
	}
}

// CreateAutoScalingGroup refuses a group name over 255 characters with the
// model's ValidationError.
func TestAutoScalingGroupNameLengthAsAWSValidatesIt(t *testing.T) {
	ctx := context.Background()
	env := start(t)
	env.AddImages(t, "ami-00000001")
	ec, as := env.EC2(), env.AutoScaling()
	lt := need(ec.CreateLaunchTemplate(ctx, &ec2.CreateLaunchTemplateInput{LaunchTemplateName: aws.String("web"),
		LaunchTemplateData: &ec2types.RequestLaunchTemplateData{ImageId: aws.String("ami-00000001")}})).on(t).LaunchTemplate
	create := func(name string) error {
		_, err := as.CreateAutoScalingGroup(ctx, &autoscaling.CreateAutoScalingGroupInput{AutoScalingGroupName: aws.String(name), MinSize: aws.Int32(0), MaxSize: aws.Int32(1),
			LaunchTemplate: &astypes.LaunchTemplateSpecification{LaunchTemplateId: lt.LaunchTemplateId, Version: aws.String("1")}})
		return err
	}
	long := strings.Repeat("g", 256)
	refusal{"ValidationError", "1 validation error detected: Value '" + long + "' at 'autoScalingGroupName' failed to satisfy constraint: Member must have length less than or equal to 255"}.check(t, "name of 256", create(long))
	if err := create(long[:255]); err != nil {
		t.Fatalf("name of 255 refused: %v", err)
	}
}

// CreateTargetGroup refuses ports outside 1..65535 with the model's
// ValidationError.
func TestELBv2TargetGroupPortAsAWSValidatesIt(t *testing.T) {
	ctx := context.Background()
	c := start(t).ELBv2()
	_, err := c.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{Name: aws.String("web"), Protocol: elbtypes.ProtocolEnumHttp,
		Port: aws.Int32(70000), VpcId: aws.String("vpc-1")})
	refusal{"ValidationError", "1 validation error detected: Value '70000' at 'port' failed to satisfy constraint: Member must have value less than or equal to 65535"}.check(t, "port 70000", err)
}
