package awsemu_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/smithy-go"

	"github.com/jibe-dev/jibe/internal/awsemu/awsemutest"
)

func createFunction(t *testing.T, ctx context.Context, c *lambda.Client, name string) *lambda.CreateFunctionOutput {
	t.Helper()
	return need(c.CreateFunction(ctx, &lambda.CreateFunctionInput{
		FunctionName: aws.String(name), Role: aws.String("arn:aws:iam::111111111111:role/fn"), Runtime: lambdatypes.RuntimeProvidedal2023,
		Handler: aws.String("bootstrap"), Code: &lambdatypes.FunctionCode{ZipFile: []byte("v1 code")},
		Environment:      &lambdatypes.Environment{Variables: map[string]string{"MODE": "prod"}},
		VpcConfig:        &lambdatypes.VpcConfig{SubnetIds: []string{"subnet-a"}, SecurityGroupIds: []string{"sg-1"}},
		DeadLetterConfig: &lambdatypes.DeadLetterConfig{TargetArn: aws.String("arn:aws:sqs:us-east-1:111111111111:dlq")},
		TracingConfig:    &lambdatypes.TracingConfig{Mode: lambdatypes.TracingModeActive},
		Layers:           []string{"arn:aws:lambda:us-east-1:111111111111:layer:otel:3"},
		Architectures:    []lambdatypes.Architecture{lambdatypes.ArchitectureArm64},
		MemorySize:       aws.Int32(256), Timeout: aws.Int32(30),
		Tags: map[string]string{"team": "core"},
	})).on(t)
}

func waitActive(t *testing.T, env *awsemutest.Env, c *lambda.Client, name string) {
	t.Helper()
	w := lambda.NewFunctionActiveV2Waiter(c, func(o *lambda.FunctionActiveV2WaiterOptions) {
		o.MinDelay, o.MaxDelay = awsemutest.WaiterDelay, awsemutest.WaiterDelay
		o.APIOptions = append(o.APIOptions, env.AdvanceEachAttempt(time.Second))
	})
	if err := w.Wait(context.Background(), &lambda.GetFunctionInput{FunctionName: aws.String(name)}, time.Minute); err != nil {
		t.Fatalf("FunctionActiveV2: %v", err)
	}
}

func waitUpdated(t *testing.T, env *awsemutest.Env, c *lambda.Client, name string) {
	t.Helper()
	w := lambda.NewFunctionUpdatedV2Waiter(c, func(o *lambda.FunctionUpdatedV2WaiterOptions) {
		o.MinDelay, o.MaxDelay = awsemutest.WaiterDelay, awsemutest.WaiterDelay
		o.APIOptions = append(o.APIOptions, env.AdvanceEachAttempt(time.Second))
	})
	if err := w.Wait(context.Background(), &lambda.GetFunctionInput{FunctionName: aws.String(name)}, time.Minute); err != nil {
		t.Fatalf("FunctionUpdatedV2: %v", err)
	}
}

func TestLambdaCreateRoundTripsAndBecomesActive(t *testing.T) {
	ctx := context.Background()
	env := start(t)
	c := env.Lambda()
	created := createFunction(t, ctx, c, "api")
	if created.State != lambdatypes.StatePending || aws.ToString(created.FunctionArn) != "arn:aws:lambda:us-east-1:111111111111:function:api" {
		t.Fatalf("created: state %s arn %s", created.State, aws.ToString(created.FunctionArn))
	}
	_, err := c.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("api")})
	var rc *lambdatypes.ResourceConflictException
	if !errors.As(err, &rc) {
		t.Errorf("invoking a pending function: got %v, want ResourceConflictException", err)
	}
	before := env.Emu.Now()
	waitActive(t, env, c, "api")
	if took := env.Emu.Now().Sub(before); took < 30*time.Second {
		t.Errorf("VPC function active after %v, want about 30s", took)
	}
	got := need(c.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("api")})).on(t)
	cfg := got.Configuration
	if cfg.VpcConfig == nil || len(cfg.VpcConfig.SubnetIds) != 1 || cfg.Environment.Variables["MODE"] != "prod" ||
		aws.ToString(cfg.DeadLetterConfig.TargetArn) == "" || cfg.TracingConfig.Mode != lambdatypes.TracingModeActive ||
		len(cfg.Layers) != 1 || cfg.Architectures[0] != lambdatypes.ArchitectureArm64 || aws.ToInt32(cfg.MemorySize) != 256 ||
		got.Tags["team"] != "core" || aws.ToString(cfg.CodeSha256) == "" || cfg.LastUpdateStatus != lambdatypes.LastUpdateStatusSuccessful {
		t.Errorf("configuration did not round-trip: %s", jsonOf(t, got))
	}
	_, err = c.CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: aws.String("api"), Role: aws.String("arn:aws:iam::111111111111:role/r"), Runtime: lambdatypes.RuntimeProvidedal2023,
		Handler: aws.String("h"), Code: &lambdatypes.FunctionCode{ZipFile: []byte("x")}})
	if !errors.As(err, &rc) {
		t.Errorf("duplicate function: got %v, want ResourceConflictException", err)
	}
	_, err = c.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("ghost")})
	var nf *lambdatypes.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Errorf("unknown function: got %v, want ResourceNotFoundException", err)
	}

	img := need(c.CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: aws.String("img"), Role: aws.String("arn:aws:iam::111111111111:role/r"), PackageType: lambdatypes.PackageTypeImage,
		Code: &lambdatypes.FunctionCode{ImageUri: aws.String("111111111111.dkr.ecr.us-east-1.amazonaws.com/img:1")}})).on(t)
	if img.PackageType != lambdatypes.PackageTypeImage {
		t.Errorf("image function package type %s", img.PackageType)
	}
	waitActive(t, env, c, "img")
	gi := need(c.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("img")})).on(t)
	if aws.ToString(gi.Code.ImageUri) != "111111111111.dkr.ecr.us-east-1.amazonaws.com/img:1" {
		t.Errorf("image code location %s", jsonOf(t, gi.Code))
	}
	var names []string
	p := lambda.NewListFunctionsPaginator(c, &lambda.ListFunctionsInput{MaxItems: aws.Int32(1)})
	for p.HasMorePages() {
		for _, f := range need(p.NextPage(ctx)).on(t).Functions {
			names = append(names, aws.ToString(f.FunctionName))
		}
	}
	if len(names) != 2 {
		t.Errorf("listed functions %v", names)
	}
}

func TestLambdaUpdatesConflictWhileInProgressAndCheckRevision(t *testing.T) {
	ctx := context.Background()
	env := start(t)
	c := env.Lambda()
	createFunction(t, ctx, c, "api")
	waitActive(t, env, c, "api")
	cur := need(c.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String("api")})).on(t)

	_, err := c.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String("api"), RevisionId: aws.String("stale"), Timeout: aws.Int32(10)})
	var pf *lambdatypes.PreconditionFailedException
	if !errors.As(err, &pf) {
		t.Errorf("stale revision: got %v, want PreconditionFailedException", err)
	}
	up := need(c.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String("api"), RevisionId: cur.RevisionId,
		Timeout: aws.Int32(10), Environment: &lambdatypes.Environment{Variables: map[string]string{"MODE": "canary"}}})).on(t)
	if up.LastUpdateStatus != lambdatypes.LastUpdateStatusInProgress {
		t.Errorf("update status %s, want InProgress", up.LastUpdateStatus)
	}
	_, err = c.UpdateFunctionCode(ctx, &lambda.UpdateFunctionCodeInput{FunctionName: aws.String("api"), ZipFile: []byte("v2")})
	var rc *lambdatypes.ResourceConflictException
	if !errors.As(err, &rc) {
		t.Errorf("update during update: got %v, want ResourceConflictException", err)
	}
	waitUpdated(t, env, c, "api")
	got := need(c.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String("api")})).on(t)
	if aws.ToInt32(got.Timeout) != 10 || got.Environment.Variables["MODE"] != "canary" || len(got.Environment.Variables) != 1 || aws.ToInt32(got.MemorySize) != 256 {
		t.Errorf("after update: %s", jsonOf(t, got))
	}
	need(c.UpdateFunctionCode(ctx, &lambda.UpdateFunctionCodeInput{FunctionName: aws.String("api"), ZipFile: []byte("v2")})).on(t)
	waitUpdated(t, env, c, "api")
	if after := need(c.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String("api")})).on(t); aws.ToString(after.CodeSha256) == aws.ToString(cur.CodeSha256) {
		t.Error("code update did not change CodeSha256")
	}
}

func TestLambdaVersionsAliasesAndWeightedInvoke(t *testing.T) {
	ctx := context.Background()
	env := start(t)
	c := env.Lambda()
	createFunction(t, ctx, c, "api")
	waitActive(t, env, c, "api")
	v1 := need(c.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String("api")})).on(t)
	again := need(c.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String("api")})).on(t)
	if aws.ToString(v1.Version) != "1" || aws.ToString(again.Version) != "1" {
		t.Fatalf("publishing unchanged code: versions %s then %s, want 1 and 1", aws.ToString(v1.Version), aws.ToString(again.Version))
	}
	need(c.UpdateFunctionCode(ctx, &lambda.UpdateFunctionCodeInput{FunctionName: aws.String("api"), ZipFile: []byte("v2")})).on(t)
	_, err := c.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String("api")})
	var rc *lambdatypes.ResourceConflictException
	if !errors.As(err, &rc) {
		t.Errorf("publish during update: got %v, want ResourceConflictException", err)
	}
	waitUpdated(t, env, c, "api")
	v2 := need(c.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String("api"), Description: aws.String("second")})).on(t)
	if aws.ToString(v2.Version) != "2" || aws.ToString(v2.FunctionArn) != "arn:aws:lambda:us-east-1:111111111111:function:api:2" {
		t.Fatalf("second version %s %s", aws.ToString(v2.Version), aws.ToString(v2.FunctionArn))
	}
	active := lambda.NewPublishedVersionActiveWaiter(c, func(o *lambda.PublishedVersionActiveWaiterOptions) {
		o.MinDelay, o.MaxDelay = time.Millisecond, time.Millisecond
	})
	if err := active.Wait(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String("api"), Qualifier: aws.String("2")}, time.Minute); err != nil {
		t.Fatalf("PublishedVersionActive: %v", err)
	}

	for name, rcfg := range map[string]*lambdatypes.AliasRoutingConfiguration{
		"weight 1":        {AdditionalVersionWeights: map[string]float64{"2": 1}},
		"negative weight": {AdditionalVersionWeights: map[string]float64{"2": -0.1}},
		"primary again":   {AdditionalVersionWeights: map[string]float64{"1": 0.1}},
		"$LATEST":         {AdditionalVersionWeights: map[string]float64{"$LATEST": 0.1}},
		"missing version": {AdditionalVersionWeights: map[string]float64{"9": 0.1}},
		"two versions":    {AdditionalVersionWeights: map[string]float64{"2": 0.1, "3": 0.1}},
	} {
		_, err := c.CreateAlias(ctx, &lambda.CreateAliasInput{FunctionName: aws.String("api"), Name: aws.String("live"), FunctionVersion: aws.String("1"), RoutingConfig: rcfg})
		var ipv *lambdatypes.InvalidParameterValueException
		if !errors.As(err, &ipv) {
			t.Errorf("%s: got %v, want InvalidParameterValueException", name, err)
		}
	}
	alias := need(c.CreateAlias(ctx, &lambda.CreateAliasInput{FunctionName: aws.String("api"), Name: aws.String("live"), FunctionVersion: aws.String("1"),
		RoutingConfig: &lambdatypes.AliasRoutingConfiguration{AdditionalVersionWeights: map[string]float64{"2": 0.25}}})).on(t)
	if alias.RoutingConfig.AdditionalVersionWeights["2"] != 0.25 || aws.ToString(alias.AliasArn) != "arn:aws:lambda:us-east-1:111111111111:function:api:live" {
		t.Errorf("alias %s", jsonOf(t, alias))
	}
	env.Emu.SetFunctionResponse("api", []byte(`{"ok":true}`))
	env.Emu.MarkFunctionVersionBroken("api", "2")
	counts := map[string]int{}
	failed := 0
	for i := 0; i < 100; i++ {
		out := need(c.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("api"), Qualifier: aws.String("live"), Payload: []byte(`{}`)})).on(t)
		counts[aws.ToString(out.ExecutedVersion)]++
		if out.FunctionError != nil {
			failed++
		} else if string(out.Payload) != `{"ok":true}` {
			t.Fatalf("payload %s", out.Payload)
		}
	}
	if counts["1"] != 75 || counts["2"] != 25 || failed != 25 {
		t.Errorf("routing 25%% to broken version 2: executed %v, %d function errors", counts, failed)
	}
	// CloudWatch shows the canary version's errors, as canary analysis reads them.
	for _, m := range []struct {
		name, version string
		want          float64
	}{{"Errors", "2", 25}, {"Errors", "1", 0}, {"Invocations", "1", 75}} {
		if got := lambdaMetric(t, ctx, env, m.name, map[string]string{"FunctionName": "api", "Resource": "api:live", "ExecutedVersion": m.version}); got != m.want {
			t.Errorf("%s of version %s through live = %v, want %v", m.name, m.version, got, m.want)
		}
	}
	if got := lambdaMetric(t, ctx, env, "Invocations", map[string]string{"FunctionName": "api"}); got != 100 {
		t.Errorf("Invocations of api = %v, want 100", got)
	}
	_, err = c.UpdateAlias(ctx, &lambda.UpdateAliasInput{FunctionName: aws.String("api"), Name: aws.String("live"), RevisionId: aws.String("stale"), FunctionVersion: aws.String("2")})
	var pf *lambdatypes.PreconditionFailedException
	if !errors.As(err, &pf) {
		t.Errorf("stale alias revision: got %v, want PreconditionFailedException", err)
	}
	moved := need(c.UpdateAlias(ctx, &lambda.UpdateAliasInput{FunctionName: aws.String("api"), Name: aws.String("live"), RevisionId: alias.RevisionId,
		FunctionVersion: aws.String("2"), RoutingConfig: &lambdatypes.AliasRoutingConfiguration{}})).on(t)
	if aws.ToString(moved.FunctionVersion) != "2" || len(moved.RoutingConfig.AdditionalVersionWeights) != 0 {
		t.Errorf("moved alias %s", jsonOf(t, moved))
	}
	versions := need(c.ListVersionsByFunction(ctx, &lambda.ListVersionsByFunctionInput{FunctionName: aws.String("api")})).on(t)
	if len(versions.Versions) != 3 {
		t.Errorf("versions: %d, want $LATEST, 1, 2", len(versions.Versions))
	}
	aliases := need(c.ListAliases(ctx, &lambda.ListAliasesInput{FunctionName: aws.String("api")})).on(t)
	if len(aliases.Aliases) != 1 {
		t.Errorf("aliases: %d", len(aliases.Aliases))
	}
}

func TestLambdaPermissionsAndTags(t *testing.T) {
	ctx := context.Background()
	env := start(t)
	c := env.Lambda()
	fn := createFunction(t, ctx, c, "api")
	perm := need(c.AddPermission(ctx, &lambda.AddPermissionInput{FunctionName: aws.String("api"), StatementId: aws.String("elb"),
		Action: aws.String("lambda:InvokeFunction"), Principal: aws.String("elasticloadbalancing.amazonaws.com"),
		SourceArn: aws.String("arn:aws:elasticloadbalancing:us-east-1:111111111111:targetgroup/fn/1")})).on(t)
	if !containsStr(aws.ToString(perm.Statement), `"Service":"elasticloadbalancing.amazonaws.com"`) {
		t.Errorf("statement %s", aws.ToString(perm.Statement))
	}
	_, err := c.AddPermission(ctx, &lambda.AddPermissionInput{FunctionName: aws.String("api"), StatementId: aws.String("elb"), Action: aws.String("lambda:InvokeFunction"), Principal: aws.String("s3.amazonaws.com")})
	var rc *lambdatypes.ResourceConflictException
	if !errors.As(err, &rc) {
		t.Errorf("duplicate statement: got %v, want ResourceConflictException", err)
	}
	pol := need(c.GetPolicy(ctx, &lambda.GetPolicyInput{FunctionName: aws.String("api")})).on(t)
	if !containsStr(aws.ToString(pol.Policy), `"Sid":"elb"`) {
		t.Errorf("policy %s", aws.ToString(pol.Policy))
	}
	need(c.RemovePermission(ctx, &lambda.RemovePermissionInput{FunctionName: aws.String("api"), StatementId: aws.String("elb")})).on(t)
	_, err = c.GetPolicy(ctx, &lambda.GetPolicyInput{FunctionName: aws.String("api")})
	var nf *lambdatypes.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Errorf("empty policy: got %v, want ResourceNotFoundException", err)
	}
	need(c.TagResource(ctx, &lambda.TagResourceInput{Resource: fn.FunctionArn, Tags: map[string]string{"env": "prod"}})).on(t)
	need(c.UntagResource(ctx, &lambda.UntagResourceInput{Resource: fn.FunctionArn, TagKeys: []string{"team"}})).on(t)
	tags := need(c.ListTags(ctx, &lambda.ListTagsInput{Resource: fn.FunctionArn})).on(t)
	if len(tags.Tags) != 1 || tags.Tags["env"] != "prod" {
		t.Errorf("tags %v", tags.Tags)
	}
	need(c.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String("api")})).on(t)
	if _, err := c.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("api")}); !errors.As(err, &nf) {
		t.Errorf("deleted function: got %v", err)
	}
}

func TestLambdaThrottleIsTooManyRequests(t *testing.T) {
	ctx := context.Background()
	env := start(t)
	env.Emu.Inject(awsemuFault("lambda", "Invoke"))
	c := env.Lambda(func(o *lambda.Options) { o.Retryer = awsemutest.Retryer(1)() })
	createFunction(t, ctx, c, "api")
	env.Emu.Advance(time.Minute)
	_, err := c.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("api")})
	var tm *lambdatypes.TooManyRequestsException
	if !errors.As(err, &tm) {
		t.Fatalf("got %v, want TooManyRequestsException", err)
	}
	if reqs := env.Emu.Requests(); reqs[len(reqs)-1].Status != 429 {
		t.Errorf("status %d, want 429", reqs[len(reqs)-1].Status)
	}
}

func TestLambdaBehindLoadBalancerCanaryCountsFailures(t *testing.T) {
	ctx := context.Background()
	env := start(t)
	c, elb := env.Lambda(), env.ELBv2()
	createFunction(t, ctx, c, "api")
	waitActive(t, env, c, "api")
	need(c.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String("api")})).on(t)
	need(c.UpdateFunctionCode(ctx, &lambda.UpdateFunctionCodeInput{FunctionName: aws.String("api"), ZipFile: []byte("v2")})).on(t)
	waitUpdated(t, env, c, "api")
	need(c.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String("api")})).on(t)
	alias := need(c.CreateAlias(ctx, &lambda.CreateAliasInput{FunctionName: aws.String("api"), Name: aws.String("live"), FunctionVersion: aws.String("1")})).on(t)

	lb := need(elb.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{Name: aws.String("fn"), Subnets: []string{"subnet-a"}})).on(t).LoadBalancers[0]
	tg := need(elb.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{Name: aws.String("fn"), TargetType: elbtypes.TargetTypeEnumLambda})).on(t).TargetGroups[0]
	target := []elbtypes.TargetDescription{{Id: alias.AliasArn}}
	_, err := elb.RegisterTargets(ctx, &elbv2.RegisterTargetsInput{TargetGroupArn: tg.TargetGroupArn, Targets: target})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "AccessDenied" {
		t.Fatalf("registering a function without permission: got %v, want AccessDenied", err)
	}
	need(c.AddPermission(ctx, &lambda.AddPermissionInput{FunctionName: aws.String("api"), Qualifier: aws.String("live"), StatementId: aws.String("elb"),
		Action: aws.String("lambda:InvokeFunction"), Principal: aws.String("elasticloadbalancing.amazonaws.com"), SourceArn: tg.TargetGroupArn})).on(t)
	need(elb.RegisterTargets(ctx, &elbv2.RegisterTargetsInput{TargetGroupArn: tg.TargetGroupArn, Targets: target})).on(t)
	ls := need(elb.CreateListener(ctx, &elbv2.CreateListenerInput{LoadBalancerArn: lb.LoadBalancerArn, Port: aws.Int32(80), Protocol: elbtypes.ProtocolEnumHttp,
		DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: tg.TargetGroupArn}}})).on(t).Listeners[0]
	if res := need(env.Emu.SendTraffic(*ls.ListenerArn, 100)).on(t); res.OK != 100 {
		t.Fatalf("stable alias: %s", res)
	}
	env.Emu.MarkFunctionVersionBroken("api", "2")
	need(c.UpdateAlias(ctx, &lambda.UpdateAliasInput{FunctionName: aws.String("api"), Name: aws.String("live"),
		RoutingConfig: &lambdatypes.AliasRoutingConfiguration{AdditionalVersionWeights: map[string]float64{"2": 0.1}}})).on(t)
	if res := need(env.Emu.SendTraffic(*ls.ListenerArn, 100)).on(t); res.Target5xx != 10 || res.OK != 90 {
		t.Errorf("10%% canary of a broken version: %s", res)
	}
}

// lambdaMetric returns the sum of an AWS/Lambda metric over the last hour.
func lambdaMetric(t *testing.T, ctx context.Context, env *awsemutest.Env, name string, dims map[string]string) float64 {
	t.Helper()
	var ds []cwtypes.Dimension
	for k, v := range dims {
		ds = append(ds, cwtypes.Dimension{Name: aws.String(k), Value: aws.String(v)})
	}
	now := env.Emu.Now()
	out := need(env.CloudWatch().GetMetricStatistics(ctx, &cloudwatch.GetMetricStatisticsInput{Namespace: aws.String("AWS/Lambda"),
		MetricName: aws.String(name), Dimensions: ds, StartTime: aws.Time(now.Add(-time.Hour)), EndTime: aws.Time(now.Add(time.Minute)),
		Period: aws.Int32(3600), Statistics: []cwtypes.Statistic{cwtypes.StatisticSum}})).on(t)
	sum := 0.0
	for _, p := range out.Datapoints {
		sum += aws.ToFloat64(p.Sum)
	}
	return sum
}

func TestLambdaPolicyIsPerQualifier(t *testing.T) {
	ctx := context.Background()
	env := start(t)
	c, elb := env.Lambda(), env.ELBv2()
	createFunction(t, ctx, c, "api")
	waitActive(t, env, c, "api")
	need(c.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String("api")})).on(t)
	alias := need(c.CreateAlias(ctx, &lambda.CreateAliasInput{FunctionName: aws.String("api"), Name: aws.String("live"), FunctionVersion: aws.String("1")})).on(t)
	tg := need(elb.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{Name: aws.String("fn"), TargetType: elbtypes.TargetTypeEnumLambda})).on(t).TargetGroups[0]
	allow := func(q *string) {
		need(c.AddPermission(ctx, &lambda.AddPermissionInput{FunctionName: aws.String("api"), Qualifier: q, StatementId: aws.String("elb"),
			Action: aws.String("lambda:InvokeFunction"), Principal: aws.String("elasticloadbalancing.amazonaws.com"), SourceArn: tg.TargetGroupArn})).on(t)
	}
	var nf *lambdatypes.ResourceNotFoundException

	// A permission on the unqualified function does not let ELB invoke the alias.
	allow(nil)
	_, err := elb.RegisterTargets(ctx, &elbv2.RegisterTargetsInput{TargetGroupArn: tg.TargetGroupArn, Targets: []elbtypes.TargetDescription{{Id: alias.AliasArn}}})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "AccessDenied" {
		t.Fatalf("registering the alias with a permission on the function only: got %v, want AccessDenied", err)
	}
	if _, err := c.GetPolicy(ctx, &lambda.GetPolicyInput{FunctionName: aws.String("api"), Qualifier: aws.String("live")}); !errors.As(err, &nf) {
		t.Errorf("GetPolicy of a qualifier without a policy: got %v, want ResourceNotFoundException", err)
	}

	// The same statement id on the alias is another policy.
	allow(aws.String("live"))
	pol := need(c.GetPolicy(ctx, &lambda.GetPolicyInput{FunctionName: aws.String("api"), Qualifier: aws.String("live")})).on(t)
	if !containsStr(aws.ToString(pol.Policy), `"Resource":"`+aws.ToString(alias.AliasArn)+`"`) || strings.Count(aws.ToString(pol.Policy), `"Sid"`) != 1 {
		t.Errorf("alias policy %s", aws.ToString(pol.Policy))
	}
	need(elb.RegisterTargets(ctx, &elbv2.RegisterTargetsInput{TargetGroupArn: tg.TargetGroupArn, Targets: []elbtypes.TargetDescription{{Id: alias.AliasArn}}})).on(t)

	need(c.RemovePermission(ctx, &lambda.RemovePermissionInput{FunctionName: aws.String("api"), StatementId: aws.String("elb")})).on(t)
	if _, err := c.GetPolicy(ctx, &lambda.GetPolicyInput{FunctionName: aws.String("api")}); !errors.As(err, &nf) {
		t.Errorf("GetPolicy after removing the function's statement: got %v, want ResourceNotFoundException", err)
	}
	need(c.GetPolicy(ctx, &lambda.GetPolicyInput{FunctionName: aws.String("api"), Qualifier: aws.String("live")})).on(t)
}

func TestLambdaUpdateConfigurationClearsWithEmptyValues(t *testing.T) {
	ctx := context.Background()
	env := start(t)
	c := env.Lambda()
	createFunction(t, ctx, c, "api")
	waitActive(t, env, c, "api")
	need(c.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String("api"),
		Description: aws.String("orders"), KMSKeyArn: aws.String("arn:aws:kms:us-east-1:111111111111:key/1")})).on(t)
	waitUpdated(t, env, c, "api")
	out := need(c.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String("api"),
		Description: aws.String(""), KMSKeyArn: aws.String(""), Layers: []string{},
		VpcConfig: &lambdatypes.VpcConfig{SubnetIds: []string{}, SecurityGroupIds: []string{}}})).on(t)
	if aws.ToString(out.Description) != "" || aws.ToString(out.KMSKeyArn) != "" || len(out.Layers) != 0 || out.VpcConfig != nil && len(out.VpcConfig.SubnetIds) != 0 {
		t.Errorf("empty values did not clear: description %q, key %q, layers %v, vpc %+v",
			aws.ToString(out.Description), aws.ToString(out.KMSKeyArn), out.Layers, out.VpcConfig)
	}
}

// The control endpoint of `jibe emulator aws` marks a Lambda version's
// invocations as failing, as MarkFunctionVersionBroken does.
func TestControlEndpointMarksAVersionFailing(t *testing.T) {
	ctx := context.Background()
	env := start(t)
	c := env.Lambda()
	createFunction(t, ctx, c, "api")
	waitActive(t, env, c, "api")
	need(c.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String("api")})).on(t)
	post := func(path, body string) int {
		resp, err := http.Post(env.URL+path, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post("/_jibe/lambda/behavior", `{"function":"api","version":"1","broken":true}`); code != http.StatusNoContent {
		t.Fatalf("control: %d", code)
	}
	out := need(c.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("api"), Qualifier: aws.String("1")})).on(t)
	if aws.ToString(out.FunctionError) != "Unhandled" {
		t.Errorf("invocation of the broken version: %+v", out)
	}
	if code := post("/_jibe/lambda/behavior", `{"function":"api"}`); code != http.StatusBadRequest {
		t.Errorf("control without a version: %d, want 400", code)
	}
	if code := post("/_jibe/lambda/behavior", `{"function":"api","version":"1","errorRate":2}`); code != http.StatusBadRequest {
		t.Errorf("control with an error rate of 2: %d, want 400", code)
	}
}

// Lambda validates the memory size, the timeout and the role's ARN as AWS
// does, on create and on update.
func TestLambdaValidatesMemoryTimeoutAndRole(t *testing.T) {
	ctx := context.Background()
	env := start(t)
	c := env.Lambda()
	base := func() *lambda.CreateFunctionInput {
		return &lambda.CreateFunctionInput{FunctionName: aws.String("api"), Role: aws.String("arn:aws:iam::111111111111:role/fn"),
			Runtime: lambdatypes.RuntimeProvidedal2023, Handler: aws.String("bootstrap"), Code: &lambdatypes.FunctionCode{ZipFile: []byte("v1")}}
	}
	for name, change := range map[string]func(*lambda.CreateFunctionInput){
		"memory below 128":   func(in *lambda.CreateFunctionInput) { in.MemorySize = aws.Int32(64) },
		"memory above 10240": func(in *lambda.CreateFunctionInput) { in.MemorySize = aws.Int32(20480) },
		"timeout of 0":       func(in *lambda.CreateFunctionInput) { in.Timeout = aws.Int32(0) },
		"timeout above 900":  func(in *lambda.CreateFunctionInput) { in.Timeout = aws.Int32(901) },
		"role not an ARN":    func(in *lambda.CreateFunctionInput) { in.Role = aws.String("fn-role") },
		"ephemeral too big": func(in *lambda.CreateFunctionInput) {
			in.EphemeralStorage = &lambdatypes.EphemeralStorage{Size: aws.Int32(20000)}
		},
	} {
		in := base()
		change(in)
		_, err := c.CreateFunction(ctx, in)
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != "ValidationException" && ae.ErrorCode() != "InvalidParameterValueException" {
			t.Errorf("%s: got %v, want a validation error", name, err)
		}
	}
	need(c.CreateFunction(ctx, base())).on(t)
	waitActive(t, env, c, "api")
	_, err := c.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String("api"), Timeout: aws.Int32(1000)})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "ValidationException" {
		t.Errorf("update with a timeout of 1000: got %v, want ValidationException", err)
	}
}

func TestLambdaLayerVersions(t *testing.T) {
	ctx := context.Background()
	env := start(t)
	c := env.Lambda()
	pub := need(c.PublishLayerVersion(ctx, &lambda.PublishLayerVersionInput{LayerName: aws.String("otel"),
		Content: &lambdatypes.LayerVersionContentInput{S3Bucket: aws.String("b"), S3Key: aws.String("otel.zip")}})).on(t)
	if pub.Version != 1 || aws.ToString(pub.LayerVersionArn) != "arn:aws:lambda:us-east-1:111111111111:layer:otel:1" {
		t.Fatalf("published %+v", pub)
	}
	got := need(c.GetLayerVersionByArn(ctx, &lambda.GetLayerVersionByArnInput{Arn: pub.LayerVersionArn})).on(t)
	if got.Version != 1 {
		t.Errorf("got %+v", got)
	}
	_, err := c.GetLayerVersionByArn(ctx, &lambda.GetLayerVersionByArnInput{Arn: aws.String("arn:aws:lambda:us-east-1:111111111111:layer:otel:2")})
	var nf *lambdatypes.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Errorf("unpublished version: got %v, want ResourceNotFoundException", err)
	}
}
