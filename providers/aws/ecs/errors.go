package ecs

import (
	"errors"
	"fmt"

	"github.com/aws/smithy-go"

	"github.com/jibe-dev/jibe/reconcile"
)

// stallCodes are the AWS error codes retrying cannot fix, with what to do.
var stallCodes = map[string]string{
	"AccessDenied":                                   "grant the agent's role the permission",
	"AccessDeniedException":                          "grant the agent's role the permission",
	"UnauthorizedOperation":                          "grant the agent's role the permission",
	"InvalidParameterException":                      "fix the task definition or service file",
	"ClientException":                                "fix the task definition or service file",
	"ValidationError":                                "fix the target's traffic settings or load balancer",
	"ValidationException":                            "fix the target's autoScaling settings",
	"ClusterNotFoundException":                       "create the cluster or fix the service file's cluster",
	"TargetGroupNotFound":                            "fix the target group ARNs of the target",
	"ListenerNotFound":                               "fix the target's traffic.listenerArn",
	"RuleNotFound":                                   "fix the target's traffic.listenerRuleArn",
	"PlatformUnknownException":                       "fix the service file's platformVersion",
	"PlatformTaskDefinitionIncompatibilityException": "make the task definition fit the launch type",
}

// classify marks errors AWS answers for wrong input as stalled, with a
// hint of what to fix. Throttling and server errors were already retried by
// the SDK's retryer; they stay transient.
func classify(err error) error {
	var api smithy.APIError
	if !errors.As(err, &api) {
		return err
	}
	if hint, ok := stallCodes[api.ErrorCode()]; ok {
		return reconcile.Stalled(fmt.Errorf("%w (%s)", err, hint))
	}
	return err
}

// isCode reports whether err is the AWS error code.
func isCode(err error, code string) bool {
	var api smithy.APIError
	return errors.As(err, &api) && api.ErrorCode() == code
}
