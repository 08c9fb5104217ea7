package awserr

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/smithy-go"

	"github.com/jibe-dev/jibe/internal/awsemu"
	"github.com/jibe-dev/jibe/internal/awsemu/awsemutest"
	"github.com/jibe-dev/jibe/reconcile"
)

func TestClassification(t *testing.T) {
	tests := []struct {
		code   string
		class  Class
		policy reconcile.Policy
	}{
		{"ThrottlingException", Throttling, reconcile.PolicyBackoff},
		{"Throttling", Throttling, reconcile.PolicyBackoff},
		{"TooManyRequestsException", Throttling, reconcile.PolicyBackoff},
		{"RequestLimitExceeded", Throttling, reconcile.PolicyBackoff},
		{"RequestTimeout", Transient, reconcile.PolicyBackoff},
		{"ServerException", Transient, reconcile.PolicyBackoff},
		{"ServiceUnavailable", Transient, reconcile.PolicyBackoff},
		{"ConcurrentModificationException", Conflict, reconcile.PolicyBackoff},
		{"ResourceConflictException", Conflict, reconcile.PolicyBackoff},
		{"ScalingActivityInProgress", Conflict, reconcile.PolicyBackoff},
		{"ClusterNotFoundException", NotFound, reconcile.PolicyStall},
		{"TargetGroupNotFound", NotFound, reconcile.PolicyStall},
		{"AccessDenied", AccessDenied, reconcile.PolicyStall},
		{"AccessDeniedException", AccessDenied, reconcile.PolicyStall},
		{"UnauthorizedOperation", AccessDenied, reconcile.PolicyStall},
		{"InvalidParameterException", InvalidInput, reconcile.PolicyStall},
		{"ValidationError", InvalidInput, reconcile.PolicyStall},
		{"InvalidParameterValue", InvalidInput, reconcile.PolicyStall},
		{"SomethingNew", Unknown, reconcile.PolicyBackoff},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			err := fmt.Errorf("update service web: %w", &smithy.GenericAPIError{Code: tt.code, Message: "no"})
			if got := ClassOf(err); got != tt.class {
				t.Errorf("class %v, want %v", got, tt.class)
			}
			classified := Classify(err, nil)
			if got := reconcile.PolicyOf(classified); got != tt.policy {
				t.Errorf("policy %v, want %v", got, tt.policy)
			}
			if Code(classified) != tt.code {
				t.Errorf("the AWS error is no longer wrapped: %v", classified)
			}
		})
	}
}

func TestClassifyHints(t *testing.T) {
	err := &smithy.GenericAPIError{Code: "AccessDeniedException", Message: "no"}
	if got := Classify(err, nil).Error(); !strings.HasSuffix(got, "(grant the agent's role the permission)") {
		t.Errorf("default hint: %s", got)
	}
	hints := map[string]string{"AccessDeniedException": "grant it ecs:UpdateService"}
	if got := Classify(err, hints).Error(); !strings.HasSuffix(got, "(grant it ecs:UpdateService)") {
		t.Errorf("caller's hint: %s", got)
	}
	plain := errors.New("connection reset")
	if ClassOf(plain) != Unknown || Classify(plain, nil) != plain || Code(plain) != "" || Is(plain, "") {
		t.Errorf("a non-AWS error is not left alone")
	}
}

// The codes the emulator answers with, as AWS does, are classified over
// the real SDK client.
func TestClassifiesWireErrors(t *testing.T) {
	env := awsemutest.Start(t, awsemu.Options{})
	cw := env.CloudWatch(func(o *cloudwatch.Options) { o.Retryer = awsemutest.Retryer(1)() })
	for kind, want := range map[awsemu.FaultKind]Class{awsemu.Throttle: Throttling, awsemu.Deny: AccessDenied, awsemu.ServerError: Transient} {
		env.Emu.Inject(awsemu.Fault{Service: "monitoring", Operation: "DescribeAlarms", Kind: kind})
		_, err := cw.DescribeAlarms(context.Background(), &cloudwatch.DescribeAlarmsInput{})
		env.Emu.ClearFaults()
		if got := ClassOf(err); got != want {
			t.Errorf("%v: %v is %v, want %v", kind, err, got, want)
		}
	}
}
