package config

import (
	"fmt"

	"github.com/jibe-dev/jibe/spec"
)

// Limits bound what one application may make the agent read, render and
// hold in memory. An application exceeding one is refused with a failure
// status naming the limit. Every field is optional; zero or unset keeps
// its default.
type Limits struct {
	// FilesPerApplication bounds the files in an application's folder.
	// Default 2000.
	FilesPerApplication int `json:"filesPerApplication,omitempty" jsonschema:"minimum=0"`
	// BytesPerFile bounds the size of each file of an application's
	// folder, in bytes. Git sources refuse a larger file without reading
	// it. Default 8388608 (8 MiB).
	BytesPerFile int64 `json:"bytesPerFile,omitempty" jsonschema:"minimum=0"`
	// BytesPerApplication bounds the size of all the files of an
	// application's folder, in bytes, and, separately, the bytes that
	// placeholders add to it over all its environments. Default 67108864
	// (64 MiB).
	BytesPerApplication int64 `json:"bytesPerApplication,omitempty" jsonschema:"minimum=0"`
	// Environments bounds an application's environments. Default 100.
	Environments int `json:"environments,omitempty" jsonschema:"minimum=0"`
	// Targets bounds an application's targets. Default 50.
	Targets int `json:"targets,omitempty" jsonschema:"minimum=0"`
	// StepsPerStrategy bounds the steps of an environment's strategy (a
	// canary's steps). Default 50.
	StepsPerStrategy int `json:"stepsPerStrategy,omitempty" jsonschema:"minimum=0"`
	// ManifestsPerTarget bounds the Kubernetes objects of one target,
	// after a kustomize build. Default 2000.
	ManifestsPerTarget int `json:"manifestsPerTarget,omitempty" jsonschema:"minimum=0"`
}

// Spec returns the limits as spec.LoadFS takes them, defaults filled in.
func (l Limits) Spec() spec.Limits {
	return spec.Limits{
		FilesPerApplication: l.FilesPerApplication,
		BytesPerFile:        l.BytesPerFile,
		BytesPerApplication: l.BytesPerApplication,
		Environments:        l.Environments,
		Targets:             l.Targets,
		StepsPerStrategy:    l.StepsPerStrategy,
		ManifestsPerTarget:  l.ManifestsPerTarget,
	}.WithDefaults()
}

// limits checks that no limit is negative.
func (v *validator) limits(l *Limits) {
	for _, f := range []struct {
		name  string
		value int64
	}{
		{"filesPerApplication", int64(l.FilesPerApplication)}, {"bytesPerFile", l.BytesPerFile},
		{"bytesPerApplication", l.BytesPerApplication}, {"environments", int64(l.Environments)}, {"targets", int64(l.Targets)},
		{"stepsPerStrategy", int64(l.StepsPerStrategy)}, {"manifestsPerTarget", int64(l.ManifestsPerTarget)},
	} {
		name, value := f.name, f.value
		if value < 0 {
			v.errorf("limits."+name, "%s", fmt.Sprintf("%d is negative; leave the limit out for its default, or give a positive number", value))
		}
	}
}
