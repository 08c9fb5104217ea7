package autoscaling

import (
	"slices"
	"time"

	"github.com/jibe-dev/jibe/internal/awsemu/protocol"
)

// warmPoolStates are the PoolState values AWS accepts.
var warmPoolStates = []string{"Stopped", "Running", "Hibernated"}

// warmPool is a group's warm pool. Its configuration is stored and
// reported (DescribeWarmPool, WarmPoolConfiguration and WarmPoolSize of
// DescribeAutoScalingGroups); the pool's instances are not modeled.
type warmPool struct {
	minSize, maxPrepared int // maxPrepared -1: the group's MaxSize
	state                string
	reuseOnScaleIn       bool
}

type xmlReusePolicy struct {
	ReuseOnScaleIn bool
}

type xmlWarmPool struct {
	MaxGroupPreparedCapacity *int `xml:",omitempty"`
	MinSize                  int
	PoolState                string
	InstanceReusePolicy      *xmlReusePolicy `xml:",omitempty"`
}

// putWarmPool creates or replaces a group's warm pool, refusing what AWS
// refuses: sizes below their floor, MinSize above MaxGroupPreparedCapacity,
// an unknown PoolState.
func (s *Service) putWarmPool(r *region, f protocol.Form, now time.Time) (any, error) {
	g, err := s.findGroup(r, f.String("AutoScalingGroupName"))
	if err != nil {
		return nil, err
	}
	w := &warmPool{maxPrepared: -1, state: "Stopped"}
	if v, ok := f.Int("MinSize"); ok {
		w.minSize = v
	}
	if v, ok := f.Int("MaxGroupPreparedCapacity"); ok {
		w.maxPrepared = v
	}
	if v := f.String("PoolState"); v != "" {
		w.state = v
	}
	w.reuseOnScaleIn, _ = f.Bool("InstanceReusePolicy.ReuseOnScaleIn")
	switch {
	case w.minSize < 0:
		return nil, validation("MinSize must be 0 or more")
	case w.maxPrepared < -1:
		return nil, validation("MaxGroupPreparedCapacity must be -1 or more")
	case w.maxPrepared != -1 && w.minSize > w.maxPrepared:
		return nil, validation("MinSize %d of the warm pool cannot be greater than MaxGroupPreparedCapacity %d", w.minSize, w.maxPrepared)
	case !slices.Contains(warmPoolStates, w.state):
		return nil, validation("PoolState must be one of %v", warmPoolStates)
	}
	g.warmPool = w
	return nil, nil
}

type warmPoolResult struct {
	WarmPoolConfiguration *xmlWarmPool
	Instances             []xmlInstance `xml:"Instances>member"`
}

func (s *Service) describeWarmPool(r *region, f protocol.Form, now time.Time) (any, error) {
	g, err := s.findGroup(r, f.String("AutoScalingGroupName"))
	if err != nil {
		return nil, err
	}
	return &warmPoolResult{WarmPoolConfiguration: g.warmPool.xml()}, nil
}

// deleteWarmPool deletes a group's warm pool; without one, AWS answers a
// ValidationError.
func (s *Service) deleteWarmPool(r *region, f protocol.Form, now time.Time) (any, error) {
	g, err := s.findGroup(r, f.String("AutoScalingGroupName"))
	if err != nil {
		return nil, err
	}
	if g.warmPool == nil {
		return nil, validation("No warm pool found for Auto Scaling group %s", g.name)
	}
	g.warmPool = nil
	return nil, nil
}

func (w *warmPool) xml() *xmlWarmPool {
	if w == nil {
		return nil
	}
	x := &xmlWarmPool{MinSize: w.minSize, PoolState: w.state}
	if w.maxPrepared != -1 {
		x.MaxGroupPreparedCapacity = &w.maxPrepared
	}
	if w.reuseOnScaleIn {
		x.InstanceReusePolicy = &xmlReusePolicy{ReuseOnScaleIn: true}
	}
	return x
}

// size is the pool's size as AWS computes it: what the prepared capacity
// (the group's MaxSize by default) leaves beside the desired capacity,
// and at least MinSize.
func (w *warmPool) size(g *group) int {
	prepared := w.maxPrepared
	if prepared == -1 {
		prepared = g.max
	}
	return max(w.minSize, prepared-g.desired)
}
