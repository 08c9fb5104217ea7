package asg

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/jibe-dev/jibe/reconcile"
)

var _ reconcile.VersionNamer = (*Platform)(nil)

// Versions names the rollout's groups, so that checks can select their
// metrics by the AutoScalingGroupName dimension (AWS/EC2, AWS/AutoScaling)
// with ${rollout.newVersion} and ${rollout.stableVersion}: for blueGreen
// and canary the new group <name>-<revision> and the group it replaces;
// for rolling the group refreshed in place, with no stable version. A
// name is empty while its group does not exist.
func (p *Platform) Versions(ctx context.Context, d *reconcile.Deployment) (reconcile.RolloutVersions, error) {
	if err := check(d); err != nil {
		return reconcile.RolloutVersions{}, err
	}
	gs, err := p.groups(ctx, d)
	if err != nil {
		return reconcile.RolloutVersions{}, err
	}
	var out reconcile.RolloutVersions
	if !redBlack(d) && !canary(d) {
		if g := active(gs, ""); g != nil {
			out.New = aws.ToString(g.AutoScalingGroupName)
		}
		return out, nil
	}
	nn := nextName(d)
	if named(gs, nn) != nil {
		out.New = nn
	}
	if old := active(gs, nn); old != nil {
		out.Stable = aws.ToString(old.AutoScalingGroupName)
	}
	return out, nil
}
