package agent

import (
	"github.com/jibe-dev/jibe/providers/aws/asg"
	"github.com/jibe-dev/jibe/providers/aws/ecs"
	"github.com/jibe-dev/jibe/providers/aws/lambda"
	"github.com/jibe-dev/jibe/providers/kubernetes"
	"github.com/jibe-dev/jibe/spec"
)

// builtin declares the platforms a Jibe built from this repository deploys
// to, as cmd/jibe wires them.
var builtin = spec.Platforms{ecs.Capabilities, lambda.Capabilities, kubernetes.Capabilities, asg.Capabilities}
