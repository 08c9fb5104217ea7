package lambda

import (
	"errors"
	"fmt"

	"github.com/jibe-dev/jibe/providers/aws/awserr"
	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/spec"
)

var (
	errNotLambda  = errors.New("the target is not a Lambda target with a rendered function file")
	errNoPrevious = errors.New("there is no previous version to return to: no published version carries the previous revision")
)

// hints say what to fix in Lambda terms for the AWS error codes that
// stall (see awserr for the classification).
var hints = map[string]string{
	"AccessDeniedException":          "grant the agent's role the permission",
	"AccessDenied":                   "grant the agent's role the permission",
	"InvalidParameterValueException": "fix the function file",
	"ValidationException":            "fix the function file",
	"CodeStorageExceededException":   "delete old versions or ask AWS for more code storage",
	"TargetGroupNotFound":            "fix the target's lambda.targetGroupArn",
}

// classify marks errors AWS answers for wrong input as stalled, with a
// hint of what to fix; throttling, server errors and conflicts stay
// transient (awserr.Classify).
func classify(err error) error {
	return awserr.Classify(err, hints)
}

// deployment is a Lambda deployment with its function file and alias.
type deployment struct {
	*reconcile.Deployment
	fn    *spec.LambdaFunction
	alias string
}

// target returns d as a Lambda deployment, or a stalled error unless d is
// a rendered Lambda deployment with a known strategy.
func target(d *reconcile.Deployment) (deployment, error) {
	t := d.Target
	if t == nil || t.Lambda == nil || t.Function == nil {
		return deployment{}, reconcile.Stalled(errNotLambda)
	}
	if mode(d) == spec.StrategyUnknown {
		return deployment{}, reconcile.Stalled(fmt.Errorf("environment %s: set exactly one strategy", d.Env))
	}
	alias := t.Lambda.Alias
	if alias == "" {
		alias = spec.DefaultLambdaAlias
	}
	return deployment{Deployment: d, fn: t.Function, alias: alias}, nil
}

// name is the function's name.
func (d deployment) name() string { return d.fn.FunctionName }

// conflictKey identifies the function for the count of conflicts.
func (d deployment) conflictKey() string { return d.Account + "/" + d.Region + "/" + d.name() }

// write runs a write call on d's function. A ResourceConflictException
// (another update in progress) is retried, spaced by the conflict
// backoff, by returning Waiting; after the configured number in a row it
// stalls, saying so. A PreconditionFailedException (the RevisionId passed
// is stale: someone else changed the function since it was read) is
// Waiting too, so the step reads the function again. Other errors are
// classified.
func (p *Platform) write(d deployment, what string, call func() error) error {
	err := call()
	key := d.conflictKey()
	switch {
	case err == nil:
		p.conflicts.Forget(key)
		return nil
	case awserr.Is(err, "ResourceConflictException"):
		if n := p.conflicts.NumRequeues(key); n >= p.retries {
			p.conflicts.Forget(key)
			return reconcile.Stalled(fmt.Errorf("%s: function %s stayed busy after %d attempts (ResourceConflictException): "+
				"another update keeps it busy (another deploy tool, a pipeline or a person); stop it, then retry: %w", what, d.name(), n+1, err))
		}
		return reconcile.Waiting(p.conflicts.When(key), "%s: function %s is busy with another update; retrying", what, d.name())
	case awserr.Is(err, "PreconditionFailedException"):
		return reconcile.Waiting(p.requeue, "%s: function %s changed since it was read; reading it again", what, d.name())
	}
	return classify(fmt.Errorf("%s: function %s: %w", what, d.name(), err))
}
