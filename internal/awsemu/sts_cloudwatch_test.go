package awsemu_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/jibe-dev/jibe/internal/awsemu"
	"github.com/jibe-dev/jibe/internal/awsemu/awsemutest"
)

// withRole starts an emulator whose account 222222222222 (access key
// AKIAOTHER) has the role "deployer".
func withRole(t *testing.T) *awsemutest.Env {
	t.Helper()
	env := awsemutest.Start(t, awsemu.Options{Accounts: map[string]string{awsemutest.AccessKey: awsemutest.Account, "AKIAOTHER": "222222222222"}})
	need(env.As("AKIAOTHER", "secret", "").IAM().CreateRole(context.Background(), &iam.CreateRoleInput{RoleName: aws.String("deployer"),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":"sts:AssumeRole"}]}`)})).on(t)
	return env
}

func TestSTSAssumeRoleBindsCredentialsToRoleAccount(t *testing.T) {
	ctx := context.Background()
	env := withRole(t)
	c := env.STS()
	me := need(c.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})).on(t)
	if aws.ToString(me.Account) != awsemutest.Account || aws.ToString(me.Arn) != "arn:aws:iam::111111111111:root" {
		t.Errorf("caller identity %s %s", aws.ToString(me.Account), aws.ToString(me.Arn))
	}
	out := need(c.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::222222222222:role/deployer"), RoleSessionName: aws.String("jibe"), DurationSeconds: aws.Int32(900)})).on(t)
	cr := out.Credentials
	if cr == nil || aws.ToString(cr.AccessKeyId) == "" || cr.Expiration == nil || !cr.Expiration.Equal(env.Emu.Now().Add(15*time.Minute)) {
		t.Fatalf("credentials %s", jsonOf(t, cr))
	}
	if aws.ToString(out.AssumedRoleUser.Arn) != "arn:aws:sts::222222222222:assumed-role/deployer/jibe" {
		t.Errorf("assumed role user %s", aws.ToString(out.AssumedRoleUser.Arn))
	}
	role := env.As(aws.ToString(cr.AccessKeyId), aws.ToString(cr.SecretAccessKey), "")
	who := need(role.STS().GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})).on(t)
	if aws.ToString(who.Account) != "222222222222" {
		t.Errorf("assumed identity account %s", aws.ToString(who.Account))
	}
	need(role.ECS().CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("shared")})).on(t)
	if n := len(need(env.ECS().ListClusters(ctx, &ecs.ListClustersInput{})).on(t).ClusterArns); n != 0 {
		t.Errorf("cluster created with the role leaked into the caller's account (%d clusters)", n)
	}
	reqs := env.Emu.Requests()
	if last := reqs[len(reqs)-1]; last.Account != awsemutest.Account {
		t.Errorf("recorded account %s", last.Account)
	}

	_, err := c.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("not-an-arn"), RoleSessionName: aws.String("x")})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "ValidationError" {
		t.Errorf("bad role arn: got %v, want ValidationError", err)
	}
}

func TestSTSAssumeRoleNeedsTheRoleAndAValidSessionName(t *testing.T) {
	ctx := context.Background()
	c := withRole(t).STS()
	_, err := c.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::222222222222:role/missing"), RoleSessionName: aws.String("jibe")})
	var ae *smithy.GenericAPIError
	var re *awshttp.ResponseError
	if !errors.As(err, &ae) || ae.ErrorCode() != "AccessDenied" || !errors.As(err, &re) || re.HTTPStatusCode() != 403 ||
		!strings.Contains(ae.ErrorMessage(), "is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::222222222222:role/missing") {
		t.Errorf("AssumeRole of a missing role: got %v, want 403 AccessDenied", err)
	}
	for _, tc := range []struct {
		name string
		ok   bool
	}{{"jibe", true}, {"a.b@c=d,e+f-g_h", true}, {"ab", true}, {strings.Repeat("x", 64), true},
		{"a", false}, {strings.Repeat("x", 65), false}, {"has space", false}, {"slash/no", false}} {
		_, err := c.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::222222222222:role/deployer"), RoleSessionName: aws.String(tc.name)})
		var api smithy.APIError
		if tc.ok && err != nil || !tc.ok && (!errors.As(err, &api) || api.ErrorCode() != "ValidationError" && api.ErrorCode() != "InvalidParameter") {
			t.Errorf("session name %q: got %v, want ok=%v (else ValidationError)", tc.name, err, tc.ok)
		}
	}
}

func TestCloudWatchMetricDataAndStatistics(t *testing.T) {
	ctx := context.Background()
	env := start(t)
	c := env.CloudWatch()
	t0 := env.Emu.Now()
	dims := []cwtypes.Dimension{{Name: aws.String("Service"), Value: aws.String("api")}}
	var data []cwtypes.MetricDatum
	for i := 0; i < 6; i++ {
		data = append(data, cwtypes.MetricDatum{MetricName: aws.String("Latency"), Dimensions: dims, Unit: cwtypes.StandardUnitMilliseconds,
			Timestamp: aws.Time(t0.Add(time.Duration(i) * 30 * time.Second)), Value: aws.Float64(float64(10 * (i + 1)))})
	}
	data = append(data, cwtypes.MetricDatum{MetricName: aws.String("Latency"), Dimensions: dims, Timestamp: aws.Time(t0),
		StatisticValues: &cwtypes.StatisticSet{SampleCount: aws.Float64(2), Sum: aws.Float64(40), Minimum: aws.Float64(5), Maximum: aws.Float64(35)}})
	need(c.PutMetricData(ctx, &cloudwatch.PutMetricDataInput{Namespace: aws.String("Jibe/Test"), MetricData: data})).on(t)

	st := need(c.GetMetricStatistics(ctx, &cloudwatch.GetMetricStatisticsInput{Namespace: aws.String("Jibe/Test"), MetricName: aws.String("Latency"),
		Dimensions: dims, StartTime: aws.Time(t0), EndTime: aws.Time(t0.Add(3 * time.Minute)), Period: aws.Int32(60),
		Statistics: []cwtypes.Statistic{cwtypes.StatisticSum, cwtypes.StatisticMaximum, cwtypes.StatisticSampleCount, cwtypes.StatisticMinimum}})).on(t)
	if len(st.Datapoints) != 3 {
		t.Fatalf("datapoints %s", jsonOf(t, st.Datapoints))
	}
	first := st.Datapoints[0]
	if aws.ToFloat64(first.Sum) != 70 || aws.ToFloat64(first.SampleCount) != 4 || aws.ToFloat64(first.Minimum) != 5 || aws.ToFloat64(first.Maximum) != 35 {
		t.Errorf("first minute: %s", jsonOf(t, first))
	}

	md := need(c.GetMetricData(ctx, &cloudwatch.GetMetricDataInput{StartTime: aws.Time(t0), EndTime: aws.Time(t0.Add(3 * time.Minute)),
		ScanBy: cwtypes.ScanByTimestampAscending,
		MetricDataQueries: []cwtypes.MetricDataQuery{{Id: aws.String("p"), MetricStat: &cwtypes.MetricStat{Period: aws.Int32(60), Stat: aws.String("Average"),
			Metric: &cwtypes.Metric{Namespace: aws.String("Jibe/Test"), MetricName: aws.String("Latency"), Dimensions: dims}}}}})).on(t)
	r := md.MetricDataResults[0]
	if r.StatusCode != cwtypes.StatusCodeComplete || len(r.Values) != 3 || r.Values[1] != 35 || !r.Timestamps[0].Equal(t0) {
		t.Errorf("GetMetricData: %s", jsonOf(t, r))
	}
	lm := need(c.ListMetrics(ctx, &cloudwatch.ListMetricsInput{Namespace: aws.String("Jibe/Test")})).on(t)
	if len(lm.Metrics) != 1 {
		t.Errorf("ListMetrics: %s", jsonOf(t, lm.Metrics))
	}
	_, err := c.PutMetricData(ctx, &cloudwatch.PutMetricDataInput{Namespace: aws.String("AWS/ECS"), MetricData: data[:1]})
	var ipv *cwtypes.InvalidParameterValueException
	if !errors.As(err, &ipv) {
		t.Errorf("reserved namespace: got %v, want InvalidParameterValueException", err)
	}
}

func TestCloudWatchAlarmsFollowTrafficFromTheLoadBalancer(t *testing.T) {
	ctx := context.Background()
	env := start(t)
	c, elb := env.CloudWatch(), env.ELBv2()
	w := newWeb(t, ctx, elb)
	registerIPs(t, ctx, elb, w.blue, "10.0.0.1")
	env.Emu.Advance(10 * time.Second)
	lbDim := w.lb[len("arn:aws:elasticloadbalancing:us-east-1:111111111111:loadbalancer/"):]
	tgDim := w.blue[len("arn:aws:elasticloadbalancing:us-east-1:111111111111:"):]
	need(c.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{
		AlarmName: aws.String("blue-5xx"), Namespace: aws.String("AWS/ApplicationELB"), MetricName: aws.String("HTTPCode_ELB_5XX_Count"),
		Dimensions: []cwtypes.Dimension{{Name: aws.String("LoadBalancer"), Value: aws.String(lbDim)}},
		Statistic:  cwtypes.StatisticSum, Period: aws.Int32(60), EvaluationPeriods: aws.Int32(1), Threshold: aws.Float64(0),
		ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanThreshold, TreatMissingData: aws.String("notBreaching"),
		AlarmActions: []string{"arn:aws:sns:us-east-1:111111111111:ops"},
	})).on(t)
	exists := cloudwatch.NewAlarmExistsWaiter(c, func(o *cloudwatch.AlarmExistsWaiterOptions) {
		o.MinDelay, o.MaxDelay = time.Millisecond, time.Millisecond
	})
	if err := exists.Wait(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{"blue-5xx"}}, time.Minute); err != nil {
		t.Fatalf("AlarmExists: %v", err)
	}
	alarm := func() cwtypes.MetricAlarm {
		return need(c.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{"blue-5xx"}})).on(t).MetricAlarms[0]
	}
	if a := alarm(); a.StateValue != cwtypes.StateValueInsufficientData || len(a.AlarmActions) != 1 {
		t.Errorf("new alarm: %s", jsonOf(t, a))
	}
	for i := 0; i < 6; i++ {
		need(env.Emu.SendTraffic(w.listener, 10)).on(t)
		env.Emu.Advance(10 * time.Second)
	}
	if a := alarm(); a.StateValue != cwtypes.StateValueOk {
		t.Errorf("healthy traffic: alarm %s (%s)", a.StateValue, aws.ToString(a.StateReason))
	}
	st := need(c.GetMetricStatistics(ctx, &cloudwatch.GetMetricStatisticsInput{Namespace: aws.String("AWS/ApplicationELB"), MetricName: aws.String("RequestCount"),
		Dimensions: []cwtypes.Dimension{{Name: aws.String("LoadBalancer"), Value: aws.String(lbDim)}, {Name: aws.String("TargetGroup"), Value: aws.String(tgDim)}},
		StartTime:  aws.Time(env.Emu.Now().Truncate(time.Hour)), EndTime: aws.Time(env.Emu.Now().Truncate(time.Hour).Add(time.Hour)), // one clock hour
		Period: aws.Int32(3600), Statistics: []cwtypes.Statistic{cwtypes.StatisticSum}})).on(t)
	if len(st.Datapoints) != 1 || aws.ToFloat64(st.Datapoints[0].Sum) != 60 {
		t.Errorf("RequestCount per target group: %s", jsonOf(t, st.Datapoints))
	}

	env.Emu.MarkImageBroken("unused") // breaking an unrelated image changes nothing
	need(elb.DeregisterTargets(ctx, deregister(w.blue, "10.0.0.1"))).on(t)
	env.Emu.Advance(31 * time.Second)
	need(env.Emu.SendTraffic(w.listener, 10)).on(t)
	env.Emu.Advance(time.Minute)
	if a := alarm(); a.StateValue != cwtypes.StateValueAlarm {
		t.Errorf("after 5xx: alarm %s (%s)", a.StateValue, aws.ToString(a.StateReason))
	}

	need(c.SetAlarmState(ctx, &cloudwatch.SetAlarmStateInput{AlarmName: aws.String("blue-5xx"), StateValue: cwtypes.StateValueOk, StateReason: aws.String("manual")})).on(t)
	if a := alarm(); a.StateValue != cwtypes.StateValueOk || aws.ToString(a.StateReason) != "manual" {
		t.Errorf("SetAlarmState: %s", a.StateValue)
	}
	hist := need(c.DescribeAlarmHistory(ctx, &cloudwatch.DescribeAlarmHistoryInput{AlarmName: aws.String("blue-5xx")})).on(t)
	if len(hist.AlarmHistoryItems) < 3 {
		t.Errorf("history has %d items, want created, OK, ALARM, OK", len(hist.AlarmHistoryItems))
	}
	_, err := c.SetAlarmState(ctx, &cloudwatch.SetAlarmStateInput{AlarmName: aws.String("ghost"), StateValue: cwtypes.StateValueOk, StateReason: aws.String("x")})
	var rnf *cwtypes.ResourceNotFound
	if !errors.As(err, &rnf) {
		t.Errorf("unknown alarm: got %v, want ResourceNotFound", err)
	}
	need(c.DeleteAlarms(ctx, &cloudwatch.DeleteAlarmsInput{AlarmNames: []string{"blue-5xx"}})).on(t)
}
