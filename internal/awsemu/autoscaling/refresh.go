package autoscaling

import (
	"time"

	"github.com/jibe-dev/jibe/internal/awsemu/protocol"
)

// Instance refresh statuses.
const (
	refreshPending    = "Pending"
	refreshInProgress = "InProgress"
	refreshSuccessful = "Successful"
	refreshCancelled  = "Cancelled"
)

// refresh is one instance refresh.
type refresh struct {
	id, status, reason string
	start, end         time.Time
	minHealthy, warmup int
	version            int // template version instances are refreshed to
	total, pct         int
}

func (r *refresh) active() bool { return r.status == refreshPending || r.status == refreshInProgress }

func (s *Service) startInstanceRefresh(r *region, f protocol.Form, now time.Time) (any, error) {
	g, err := s.findGroup(r, f.String("AutoScalingGroupName"))
	if err != nil {
		return nil, err
	}
	if len(g.refreshes) > 0 && g.refreshes[0].active() {
		return nil, protocol.Errorf("InstanceRefreshInProgress", "An Instance Refresh is already in progress and blocks the execution of this Instance Refresh.")
	}
	t, err := s.cfg.Templates.Resolve(r.scope, g.lt.ID, g.lt.Name, g.lt.Version)
	if err != nil {
		return nil, validation("%v", err)
	}
	ref := &refresh{id: s.newID("refresh-"), status: refreshPending, start: now, minHealthy: 90, version: t.Version, total: len(g.live())}
	if v, ok := f.Int("Preferences.MinHealthyPercentage"); ok {
		ref.minHealthy = v
	}
	if v, ok := f.Int("Preferences.InstanceWarmup"); ok {
		ref.warmup = v
	}
	g.refreshes = append([]*refresh{ref}, g.refreshes...)
	return &struct{ InstanceRefreshId string }{ref.id}, nil
}

// stepRefresh replaces instances on older template versions, keeping at
// least MinHealthyPercentage of the desired capacity serving, and
// completes once every instance runs the new version.
func (s *Service) stepRefresh(r *region, g *group, now time.Time) {
	if len(g.refreshes) == 0 || !g.refreshes[0].active() {
		return
	}
	ref := g.refreshes[0]
	ref.status = refreshInProgress
	var old []*instance
	serving, inFlight := 0, 0
	for _, in := range g.instances {
		switch {
		case in.state == stateTerminating, in.state == statePending:
			inFlight++
		case in.version != ref.version:
			old = append(old, in)
		}
		if s.serving(r, in, now) {
			serving++
		}
	}
	s.progress(ref, len(old))
	if len(old) == 0 && inFlight == 0 {
		ref.status, ref.end, ref.pct = refreshSuccessful, now, 100
		ref.reason = ""
		return
	}
	allowed := max(1, serving-ceilPercent(g.desired, ref.minHealthy))
	for _, in := range old {
		if inFlight >= allowed {
			return
		}
		s.terminate(r, in, now)
		inFlight++
	}
}

func (s *Service) progress(ref *refresh, remaining int) {
	if ref.total == 0 {
		ref.pct = 0
		return
	}
	ref.pct = min(99, 100*(ref.total-remaining)/ref.total)
}

type xmlRefresh struct {
	InstanceRefreshId    string
	AutoScalingGroupName string
	Status               string
	StatusReason         string `xml:",omitempty"`
	StartTime            string
	EndTime              string `xml:",omitempty"`
	PercentageComplete   int
	InstancesToUpdate    int
}

type refreshesResult struct {
	InstanceRefreshes []xmlRefresh `xml:"InstanceRefreshes>member"`
}

func (s *Service) describeInstanceRefreshes(r *region, f protocol.Form, now time.Time) (any, error) {
	g, err := s.findGroup(r, f.String("AutoScalingGroupName"))
	if err != nil {
		return nil, err
	}
	ids := f.Strings("InstanceRefreshIds")
	out := &refreshesResult{}
	for _, ref := range g.refreshes {
		if len(ids) > 0 && !contains(ids, ref.id) {
			continue
		}
		x := xmlRefresh{InstanceRefreshId: ref.id, AutoScalingGroupName: g.name, Status: ref.status, StatusReason: ref.reason,
			StartTime: isoTime(ref.start), PercentageComplete: ref.pct, InstancesToUpdate: ref.total * (100 - ref.pct) / 100}
		if !ref.end.IsZero() {
			x.EndTime = isoTime(ref.end)
		}
		out.InstanceRefreshes = append(out.InstanceRefreshes, x)
	}
	return out, nil
}

func (s *Service) cancelInstanceRefresh(r *region, f protocol.Form, now time.Time) (any, error) {
	g, err := s.findGroup(r, f.String("AutoScalingGroupName"))
	if err != nil {
		return nil, err
	}
	if len(g.refreshes) == 0 || !g.refreshes[0].active() {
		return nil, protocol.Errorf("ActiveInstanceRefreshNotFound", "No in progress or pending Instance Refresh found for Auto Scaling group %s", g.name)
	}
	ref := g.refreshes[0]
	ref.status, ref.end = refreshCancelled, now
	return &struct{ InstanceRefreshId string }{ref.id}, nil
}
