package reconcile

import (
	"context"
	"fmt"
	"sync"

	"github.com/jibe-dev/jibe/spec"
)

// BatchDiffer is implemented by platforms that diff many deployments in
// fewer calls than one at a time (ECS describes services ten at a time).
type BatchDiffer interface {
	// DiffAll returns the changes of each deployment, in order.
	DiffAll(ctx context.Context, ds []*Deployment) ([][]Change, error)
}

// DiffAll diffs ds, which all deploy to platform p, in as few calls as p
// allows.
func DiffAll(ctx context.Context, p Platform, ds []*Deployment) ([][]Change, error) {
	if b, ok := p.(BatchDiffer); ok {
		return b.DiffAll(ctx, ds)
	}
	out := make([][]Change, len(ds))
	for i, d := range ds {
		changes, err := p.Diff(ctx, d)
		if err != nil {
			return nil, err
		}
		out[i] = changes
	}
	return out, nil
}

// Partitioned routes each deployment to the platform of its partition (for
// AWS, its account and region), building that platform on first use. It
// is itself a Platform, a BatchDiffer and a Prechecker.
type Partitioned struct {
	// Key names a deployment's partition.
	Key func(*Deployment) string
	// Build returns the platform of d's partition. An error is returned to
	// the caller and Build is tried again on the next call.
	Build func(ctx context.Context, d *Deployment) (Platform, error)

	mu        sync.Mutex
	platforms map[string]Platform
}

var _ interface {
	Platform
	BatchDiffer
	Prechecker
} = (*Partitioned)(nil)

func (p *Partitioned) platform(ctx context.Context, d *Deployment) (Platform, error) {
	key := p.Key(d)
	p.mu.Lock()
	defer p.mu.Unlock()
	if pl, ok := p.platforms[key]; ok {
		return pl, nil
	}
	pl, err := p.Build(ctx, d)
	if err != nil {
		return nil, err
	}
	if p.platforms == nil {
		p.platforms = map[string]Platform{}
	}
	p.platforms[key] = pl
	return pl, nil
}

// Diff diffs d on its partition's platform.
func (p *Partitioned) Diff(ctx context.Context, d *Deployment) ([]Change, error) {
	pl, err := p.platform(ctx, d)
	if err != nil {
		return nil, err
	}
	return pl.Diff(ctx, d)
}

// DiffAll diffs ds partition by partition, in batches where the
// partition's platform allows.
func (p *Partitioned) DiffAll(ctx context.Context, ds []*Deployment) ([][]Change, error) {
	out := make([][]Change, len(ds))
	groups := map[string][]int{}
	var order []string
	for i, d := range ds {
		k := p.Key(d)
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], i)
	}
	for _, k := range order {
		if err := p.diffGroup(ctx, ds, groups[k], out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (p *Partitioned) diffGroup(ctx context.Context, ds []*Deployment, idx []int, out [][]Change) error {
	pl, err := p.platform(ctx, ds[idx[0]])
	if err != nil {
		return err
	}
	group := make([]*Deployment, len(idx))
	for j, i := range idx {
		group[j] = ds[i]
	}
	changes, err := DiffAll(ctx, pl, group)
	if err != nil {
		return err
	}
	for j, i := range idx {
		out[i] = changes[j]
	}
	return nil
}

// Apply applies d on its partition's platform.
func (p *Partitioned) Apply(ctx context.Context, d *Deployment) error {
	return p.do(ctx, d, func(pl Platform) error { return pl.Apply(ctx, d) })
}

// Health reports d's health from its partition's platform.
func (p *Partitioned) Health(ctx context.Context, d *Deployment) (Health, error) {
	pl, err := p.platform(ctx, d)
	if err != nil {
		return Health{}, err
	}
	return pl.Health(ctx, d)
}

// ShiftTraffic shifts d's traffic on its partition's platform.
func (p *Partitioned) ShiftTraffic(ctx context.Context, d *Deployment, weight spec.Percent) error {
	return p.do(ctx, d, func(pl Platform) error { return pl.ShiftTraffic(ctx, d, weight) })
}

// Promote promotes d on its partition's platform.
func (p *Partitioned) Promote(ctx context.Context, d *Deployment) error {
	return p.do(ctx, d, func(pl Platform) error { return pl.Promote(ctx, d) })
}

// Cleanup cleans d up on its partition's platform.
func (p *Partitioned) Cleanup(ctx context.Context, d *Deployment) error {
	return p.do(ctx, d, func(pl Platform) error { return pl.Cleanup(ctx, d) })
}

// Rollback rolls d back on its partition's platform.
func (p *Partitioned) Rollback(ctx context.Context, d *Deployment) error {
	return p.do(ctx, d, func(pl Platform) error { return pl.Rollback(ctx, d) })
}

// Remove removes d's new version on its partition's platform; a platform
// that is not a Remover cannot, which stalls.
func (p *Partitioned) Remove(ctx context.Context, d *Deployment) error {
	return p.do(ctx, d, func(pl Platform) error {
		rm, ok := pl.(Remover)
		if !ok {
			return Stalled(fmt.Errorf("the %s platform cannot remove a new version", d.Target.Platform()))
		}
		return rm.Remove(ctx, d)
	})
}

var _ Remover = (*Partitioned)(nil)

var _ VersionNamer = (*Partitioned)(nil)

// Versions names d's versions on its partition's platform; a platform
// that is not a VersionNamer names none.
func (p *Partitioned) Versions(ctx context.Context, d *Deployment) (RolloutVersions, error) {
	pl, err := p.platform(ctx, d)
	if err != nil {
		return RolloutVersions{}, err
	}
	if vn, ok := pl.(VersionNamer); ok {
		return vn.Versions(ctx, d)
	}
	return RolloutVersions{}, nil
}

// Precheck prechecks d on its partition's platform; a platform that is
// not a Prechecker finds no problems.
func (p *Partitioned) Precheck(ctx context.Context, d *Deployment) ([]Problem, error) {
	pl, err := p.platform(ctx, d)
	if err != nil {
		return nil, err
	}
	if pc, ok := pl.(Prechecker); ok {
		return pc.Precheck(ctx, d)
	}
	return nil, nil
}

func (p *Partitioned) do(ctx context.Context, d *Deployment, f func(Platform) error) error {
	pl, err := p.platform(ctx, d)
	if err != nil {
		return err
	}
	return f(pl)
}
