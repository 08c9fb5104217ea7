package reconcile_test

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/jibe-dev/jibe/reconcile"
	"github.com/jibe-dev/jibe/spec"
)

// stubPlatform is a Platform that does nothing.
type stubPlatform struct{}

func (stubPlatform) Diff(context.Context, *reconcile.Deployment) ([]reconcile.Change, error) {
	return nil, nil
}
func (stubPlatform) Apply(context.Context, *reconcile.Deployment) error { return nil }
func (stubPlatform) Health(context.Context, *reconcile.Deployment) (reconcile.Health, error) {
	return reconcile.Health{State: reconcile.HealthHealthy}, nil
}
func (stubPlatform) ShiftTraffic(context.Context, *reconcile.Deployment, spec.Percent) error {
	return nil
}
func (stubPlatform) Promote(context.Context, *reconcile.Deployment) error  { return nil }
func (stubPlatform) Cleanup(context.Context, *reconcile.Deployment) error  { return nil }
func (stubPlatform) Rollback(context.Context, *reconcile.Deployment) error { return nil }

// checkingPlatform is a Prechecker reporting one problem per deployment.
type checkingPlatform struct{ stubPlatform }

func (checkingPlatform) Precheck(_ context.Context, d *reconcile.Deployment) ([]reconcile.Problem, error) {
	return []reconcile.Problem{{Target: d.App, Field: "taskDefinition.executionRoleArn", Message: "missing in " + d.Account}}, nil
}

// Partitioned forwards Precheck to the partition's platform when it is a
// Prechecker, finds nothing otherwise, and returns Build's errors.
func TestPartitionedPrecheck(t *testing.T) {
	errBuild := errors.New("no credentials")
	part := &reconcile.Partitioned{
		Key: func(d *reconcile.Deployment) string { return d.Account },
		Build: func(_ context.Context, d *reconcile.Deployment) (reconcile.Platform, error) {
			switch d.Account {
			case "checked":
				return checkingPlatform{}, nil
			case "plain":
				return stubPlatform{}, nil
			}
			return nil, errBuild
		},
	}
	ctx := context.Background()
	got, err := part.Precheck(ctx, &reconcile.Deployment{App: "shop", Account: "checked"})
	want := []reconcile.Problem{{Target: "shop", Field: "taskDefinition.executionRoleArn", Message: "missing in checked"}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("prechecker: got %v, %v; want %v", got, err, want)
	}
	if got, err := part.Precheck(ctx, &reconcile.Deployment{App: "shop", Account: "plain"}); err != nil || len(got) != 0 {
		t.Errorf("platform without precheck: got %v, %v; want no problems", got, err)
	}
	if _, err := part.Precheck(ctx, &reconcile.Deployment{App: "shop", Account: "broken"}); !errors.Is(err, errBuild) {
		t.Errorf("build failure: got %v, want %v", err, errBuild)
	}
}

// namingPlatform names versions 2 (new) and 1 (stable).
type namingPlatform struct{ stubPlatform }

func (namingPlatform) Versions(context.Context, *reconcile.Deployment) (reconcile.RolloutVersions, error) {
	return reconcile.RolloutVersions{New: "2", Stable: "1"}, nil
}

// Partitioned forwards Versions to the partition's platform when it is a
// VersionNamer and names nothing otherwise.
func TestPartitionedVersions(t *testing.T) {
	part := &reconcile.Partitioned{
		Key: func(d *reconcile.Deployment) string { return d.Account },
		Build: func(_ context.Context, d *reconcile.Deployment) (reconcile.Platform, error) {
			if d.Account == "named" {
				return namingPlatform{}, nil
			}
			return stubPlatform{}, nil
		},
	}
	ctx := context.Background()
	if v, err := part.Versions(ctx, &reconcile.Deployment{Account: "named"}); err != nil || v != (reconcile.RolloutVersions{New: "2", Stable: "1"}) {
		t.Errorf("namer: %+v, %v", v, err)
	}
	if v, err := part.Versions(ctx, &reconcile.Deployment{Account: "plain"}); err != nil || v != (reconcile.RolloutVersions{}) {
		t.Errorf("platform that names nothing: %+v, %v", v, err)
	}
}
