package kube

import (
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strings"
	"time"

	"sigs.k8s.io/yaml"
)

// defaultStages are kwokctl's default stages, copied unchanged from
// sigs.k8s.io/kwok v0.8.0 kustomize/stage/ (Apache-2.0): nodes become Ready
// and renew their leases, pods become Ready, Job pods complete, deleted pods go
// away.
//
//go:embed stages/*.yaml
var defaultStages embed.FS

// NeverReadyLabel is the pod label that the cluster always honours: a pod
// carrying it with the value "true" goes Running but stays Ready=False for
// ever, so its Deployment ends in Progressing=False/ProgressDeadlineExceeded.
const NeverReadyLabel = "testenv.jibe.dev/never-ready"

// PodBehavior is what an opt-in stage does to the pods it selects.
type PodBehavior int

const (
	// NeverReady makes pods Running with Ready=False for ever.
	NeverReady PodBehavior = iota + 1
	// ReadyAfter makes pods Ready only after PodStage.Delay.
	ReadyAfter
)

// String returns the behaviour's name, as used in stage names.
func (b PodBehavior) String() string {
	switch b {
	case NeverReady:
		return "never-ready"
	case ReadyAfter:
		return "ready-after"
	default:
		return fmt.Sprintf("PodBehavior(%d)", int(b))
	}
}

// PodSelector picks the pods an opt-in stage applies to. A pod matches when
// it carries all Labels and, if Image is set, runs Image in some container.
// At least one of the two must be set.
type PodSelector struct {
	Labels map[string]string
	Image  string
}

// PodStage is an opt-in kwok stage. It takes precedence over the default
// pod-ready stage for the pods it selects.
type PodStage struct {
	// Name identifies the stage in kwok's logs; it must be unique.
	Name     string
	Behavior PodBehavior
	Select   PodSelector
	// Delay is how long pods stay unready; only for ReadyAfter.
	Delay time.Duration
}

// neverReadyStatus is kwok's pod-ready status with every readiness flipped to
// false: the containers run, the pod never passes its readiness probe.
const neverReadyStatus = `{{ $now := Now }}
conditions:
- lastTransitionTime: {{ $now | Quote }}
  status: "True"
  type: Initialized
- lastTransitionTime: {{ $now | Quote }}
  status: "False"
  reason: ContainersNotReady
  type: Ready
- lastTransitionTime: {{ $now | Quote }}
  status: "False"
  reason: ContainersNotReady
  type: ContainersReady
containerStatuses:
{{ range .spec.containers }}
- image: {{ .image | Quote }}
  name: {{ .name | Quote }}
  ready: false
  started: true
  restartCount: 0
  state:
    running:
      startedAt: {{ $now | Quote }}
{{ end }}
phase: Running
startTime: {{ $now | Quote }}
`

func (s PodStage) validate() error {
	switch {
	case s.Name == "":
		return errors.New("pod stage has no name")
	case len(s.Select.Labels) == 0 && s.Select.Image == "":
		return fmt.Errorf("pod stage %q selects no pods: set Labels or Image", s.Name)
	case s.Behavior == ReadyAfter && s.Delay <= 0:
		return fmt.Errorf("pod stage %q: ReadyAfter needs a positive Delay", s.Name)
	case s.Behavior != NeverReady && s.Behavior != ReadyAfter:
		return fmt.Errorf("pod stage %q: unknown behavior %v", s.Name, s.Behavior)
	}
	return nil
}

// object renders s as a kwok Stage, starting from kwok's pod-ready stage so
// that it selects exactly the pods pod-ready would, narrowed by s.Select.
func (s PodStage) object() (map[string]any, error) {
	stage, err := readStage("stages/pod-ready.yaml")
	if err != nil {
		return nil, err
	}
	stage["metadata"] = map[string]any{"name": s.Name}
	spec := stage["spec"].(map[string]any)
	spec["weight"] = 1 // Any positive weight beats pod-ready's zero.
	sel := spec["selector"].(map[string]any)
	if len(s.Select.Labels) > 0 {
		sel["matchLabels"] = maps.Clone(s.Select.Labels)
	}
	if s.Select.Image != "" {
		sel["matchExpressions"] = append(sel["matchExpressions"].([]any), map[string]any{
			"key": ".spec.containers.[].image", "operator": "In", "values": []any{s.Select.Image},
		})
	}
	switch s.Behavior {
	case NeverReady:
		spec["next"] = map[string]any{"statusTemplate": neverReadyStatus}
	case ReadyAfter:
		spec["delay"] = map[string]any{"durationMilliseconds": s.Delay.Milliseconds()}
	}
	return stage, nil
}

func readStage(name string) (map[string]any, error) {
	raw, err := defaultStages.ReadFile(name)
	if err != nil {
		return nil, err
	}
	var stage map[string]any
	if err := yaml.Unmarshal(raw, &stage); err != nil {
		return nil, fmt.Errorf("parse %s: %w", name, err)
	}
	return stage, nil
}

// builtinPodStages are installed in every cluster.
func builtinPodStages() []PodStage {
	return []PodStage{{
		Name:     "jibe-never-ready-label",
		Behavior: NeverReady,
		Select:   PodSelector{Labels: map[string]string{NeverReadyLabel: "true"}},
	}}
}

// kwokConfig returns the multi-document YAML given to kwok --config: the
// default stages followed by the opt-in ones.
func kwokConfig(extra []PodStage) ([]byte, error) {
	entries, err := defaultStages.ReadDir("stages")
	if err != nil {
		return nil, err
	}
	var docs []string
	for _, e := range entries {
		raw, err := defaultStages.ReadFile("stages/" + e.Name())
		if err != nil {
			return nil, err
		}
		docs = append(docs, string(raw))
	}
	for _, s := range append(builtinPodStages(), extra...) {
		if err := s.validate(); err != nil {
			return nil, err
		}
		obj, err := s.object()
		if err != nil {
			return nil, err
		}
		doc, err := json.Marshal(obj) // JSON is YAML; no ambiguity in templates.
		if err != nil {
			return nil, err
		}
		docs = append(docs, string(doc))
	}
	return []byte(strings.Join(docs, "\n---\n")), nil
}
