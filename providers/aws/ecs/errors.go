package ecs

import (
	"github.com/jibe-dev/jibe/providers/aws/awserr"
)

// hints say what to fix in ECS terms for the AWS error codes that stall
// (see awserr for the classification).
var hints = map[string]string{
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
// hint of what to fix; throttling, server errors and conflicts stay
// transient (awserr.Classify).
func classify(err error) error {
	return awserr.Classify(err, hints)
}

// isCode reports whether err is the AWS error code.
func isCode(err error, code string) bool {
	return awserr.Is(err, code)
}
