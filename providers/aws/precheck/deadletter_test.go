package precheck

import (
	"context"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/jibe-dev/jibe/internal/awsemu"
	"github.com/jibe-dev/jibe/internal/awsemu/awsemutest"
	"github.com/jibe-dev/jibe/reconcile"
)

// Dead-letter targets: an SQS queue or SNS topic of the scope is looked
// up; a missing one is a problem at its field; one the agent may not read
// names the permissions to grant; targets elsewhere are left out.
func TestCheckDeadLetterTargets(t *testing.T) {
	env := awsemutest.Start(t, awsemu.Options{})
	ctx := context.Background()
	if _, err := env.SQS().CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("dlq")}); err != nil {
		t.Fatal(err)
	}
	if _, err := env.SNS().CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("failures")}); err != nil {
		t.Fatal(err)
	}
	sc := Scope{Account: awsemutest.Account, Region: awsemutest.Region}
	arn := func(service, name string) string {
		return "arn:aws:" + service + ":" + sc.Region + ":" + sc.Account + ":" + name
	}
	c := clients(env)
	c.SQS, c.SNS = env.SQS(), env.SNS()
	check := func(field, target string) []reconcile.Problem {
		t.Helper()
		rs := &Refs{}
		sc.AddDeadLetter(rs, field, target)
		problems, err := Check(ctx, c, sc, rs)
		if err != nil {
			t.Fatal(err)
		}
		return problems
	}
	for _, ok := range []string{arn("sqs", "dlq"), arn("sns", "failures"), "arn:aws:sqs:eu-west-1:" + sc.Account + ":elsewhere", "arn:aws:s3:::bucket"} {
		if p := check("DeadLetterConfig.TargetArn", ok); len(p) != 0 {
			t.Errorf("%s: %v", ok, p)
		}
	}
	want := map[string]string{
		arn("sqs", "nope"): "SQS queue " + arn("sqs", "nope") + " does not exist in account " + sc.Account + ", region " + sc.Region + ": create it or fix the ARN",
		arn("sns", "nope"): "SNS topic " + arn("sns", "nope") + " does not exist in account " + sc.Account + ", region " + sc.Region + ": create it or fix the ARN",
	}
	for target, msg := range want {
		if p := check("f", target); !slices.Equal(p, []reconcile.Problem{{Field: "f", Message: msg}}) {
			t.Errorf("%s: got %v\nwant %s", target, p, msg)
		}
	}
	env.Emu.Inject(awsemu.Fault{Service: "sqs", Operation: "GetQueueAttributes", Kind: awsemu.Deny})
	env.Emu.Inject(awsemu.Fault{Service: "sns", Operation: "GetTopicAttributes", Kind: awsemu.Deny})
	denied := map[string]string{
		arn("sqs", "dlq"):      "the agent's role cannot read SQS queue " + arn("sqs", "dlq") + ": grant it sqs:GetQueueUrl and sqs:GetQueueAttributes",
		arn("sns", "failures"): "the agent's role cannot read SNS topic " + arn("sns", "failures") + ": grant it sns:GetTopicAttributes",
	}
	for target, msg := range denied {
		if p := check("f", target); !slices.Equal(p, []reconcile.Problem{{Field: "f", Message: msg}}) {
			t.Errorf("%s denied: got %v\nwant %s", target, p, msg)
		}
	}
}
