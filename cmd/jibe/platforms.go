package main

import (
	"github.com/jibe-dev/jibe/providers/aws/ecs"
	"github.com/jibe-dev/jibe/providers/kubernetes"
	"github.com/jibe-dev/jibe/spec"
)

// builtinPlatforms declares the platforms this Jibe deploys to: the one
// list that `jibe validate`, `jibe plan` and the agent load specs against.
// Adding a platform adds its provider's Capabilities here (and builds its
// provider in wiring.platforms).
func builtinPlatforms() spec.Platforms {
	return spec.Platforms{ecs.Capabilities, kubernetes.Capabilities}
}
