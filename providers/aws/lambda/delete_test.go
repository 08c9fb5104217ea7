package lambda

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/jibe-dev/jibe/providers/aws/awserr"
)

// Deleting the target of an application that left Git takes the alias
// out of its ALB target group and removes the invoke permission Jibe
// added, then deletes the alias and the function; the target group
// stays. Another environment's deployment of the same function name
// deletes nothing, and deleting again is nil.
func TestDeleteRemovesTheFunctionAliasAndALBWiring(t *testing.T) {
	r := newRig(t, Options{})
	_, tg := r.loadBalancer()
	v1 := r.deployment("rev1", function("orders-1.zip"), canary())
	v1.Target.Lambda.TargetGroupArn = tg
	r.rollout(v1)

	other := r.next(v1, "rev1", function("orders-1.zip"))
	other.Env = "staging"
	if err := r.p.Delete(r.ctx, other); err != nil {
		t.Fatalf("deleting another environment = %v", err)
	}
	if _, err := r.fn.GetFunction(r.ctx, &awslambda.GetFunctionInput{FunctionName: aws.String("orders")}); err != nil {
		t.Fatalf("Delete deleted another environment's function: %v", err)
	}
	r.env.Emu.ResetRequests()
	if err := r.p.Delete(r.ctx, v1); err != nil {
		t.Fatalf("Delete = %v", err)
	}
	if got, want := strings.Join(r.writes(), " "), "DeregisterTargets RemovePermission DeleteAlias DeleteFunction"; got != want {
		t.Errorf("Delete wrote %s, want %s", got, want)
	}
	if _, err := r.fn.GetFunction(r.ctx, &awslambda.GetFunctionInput{FunctionName: aws.String("orders")}); !awserr.Is(err, "ResourceNotFoundException") {
		t.Errorf("the function after the deletion: %v, want not found", err)
	}
	th, err := r.env.ELBv2().DescribeTargetHealth(r.ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(tg)})
	if err != nil {
		t.Fatalf("the target group after the deletion: %v, want it kept", err)
	}
	for _, d := range th.TargetHealthDescriptions {
		if d.TargetHealth.State != elbtypes.TargetHealthStateEnumDraining {
			t.Errorf("target %s after the deletion: %s, want deregistered (draining)", aws.ToString(d.Target.Id), d.TargetHealth.State)
		}
	}
	if err := r.p.Delete(r.ctx, v1); err != nil {
		t.Errorf("deleting again = %v, want nil", err)
	}
}
