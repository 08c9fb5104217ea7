package asg

import (
	"github.com/jibe-dev/jibe/providers/aws/awserr"
)

// hints say what to fix, in Auto Scaling terms, for the AWS error codes
// that stall (see awserr for the classification).
var hints = map[string]string{
	"ValidationError": "fix the target's autoScalingGroup settings",
	"AlreadyExists":   "a group of that name exists that Jibe did not create for this environment: rename the target's group or delete the other one",
	"InvalidLaunchTemplateName.MalformedException": "fix autoScalingGroup.name (3 to 128 characters)",
	"InvalidAMIID.NotFound":                        "fix autoScalingGroup.launchTemplate.imageId",
	"IrreversibleInstanceRefresh":                  "the refresh cannot be rolled back; re-apply the previous revision",
}

// classify marks errors AWS answers for wrong input as stalled, with a
// hint of what to fix; throttling, server errors and conflicts stay
// transient.
func classify(err error) error {
	return awserr.Classify(err, hints)
}
