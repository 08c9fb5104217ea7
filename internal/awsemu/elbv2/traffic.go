package elbv2

import (
	"fmt"
	"strconv"
	"time"

	"github.com/jibe-dev/jibe/internal/awsemu/protocol"
)

// Response times the traffic model reports.
const (
	okResponseTime     = 0.05
	brokenResponseTime = 0.5
)

// GroupTraffic counts what one target group (or the whole listener)
// received.
type GroupTraffic struct {
	// Requests is the number of requests routed here.
	Requests int
	// OK counts requests answered without a 5xx.
	OK int
	// Target5xx counts 5xx answered by targets: broken ones, and the share
	// of requests targets with an error rate fail.
	Target5xx int
	// ELB5xx counts 503s the load balancer answered because no target
	// could take the request (none registered, all initial or draining).
	ELB5xx int
}

// Errors returns all 5xx responses.
func (g GroupTraffic) Errors() int { return g.Target5xx + g.ELB5xx }

// TrafficResult is the outcome of SendTraffic.
type TrafficResult struct {
	GroupTraffic
	// ByTargetGroup breaks the counts down by target group ARN.
	ByTargetGroup map[string]GroupTraffic
}

// SendTraffic routes n requests through the listener's default action:
// forward actions split them by weight (smooth weighted round robin, so
// repeated small batches converge on the weights), target groups spread
// them over healthy targets, and the outcome is counted and published as
// AWS/ApplicationELB metrics.
func (s *Service) SendTraffic(listenerArn string, n int, now time.Time) (TrafficResult, error) {
	r, l := s.findListenerAnywhere(listenerArn)
	if l == nil {
		return TrafficResult{}, listenerNotFound(listenerArn)
	}
	return s.send(r, l, l.actions, n, now), nil
}

// SendRequests routes n requests like req through the listener: the
// highest-priority rule whose host-header, path-pattern and http-header
// conditions match decides the action, else the default action.
func (s *Service) SendRequests(listenerArn string, req Request, n int, now time.Time) (TrafficResult, error) {
	r, l := s.findListenerAnywhere(listenerArn)
	if l == nil {
		return TrafficResult{}, listenerNotFound(listenerArn)
	}
	return s.send(r, l, r.actionsFor(l, req), n, now), nil
}

// send routes n requests through actions and publishes the metrics.
func (s *Service) send(r *region, l *listener, actions *protocol.Node, n int, now time.Time) TrafficResult {
	res := TrafficResult{ByTargetGroup: map[string]GroupTraffic{}}
	a := forwardAction(actions)
	if a == nil {
		res.Requests, res.OK = n, n
		return res
	}
	groups, _ := forwardGroups(a)
	for i := 0; i < n; i++ {
		arn := l.pick(a, groups)
		g := res.ByTargetGroup[arn]
		g.Requests++
		switch s.serve(r, arn, now) {
		case outcomeOK:
			g.OK++
		case outcomeTarget5xx:
			g.Target5xx++
		default:
			g.ELB5xx++
		}
		res.ByTargetGroup[arn] = g
	}
	for _, g := range res.ByTargetGroup {
		res.Requests += g.Requests
		res.OK += g.OK
		res.Target5xx += g.Target5xx
		res.ELB5xx += g.ELB5xx
	}
	s.publish(r, l, res, now)
	return res
}

func (s *Service) findListenerAnywhere(arn string) (*region, *listener) {
	for _, r := range s.regions {
		if l, ok := r.listeners[arn]; ok {
			return r, l
		}
	}
	return nil, nil
}

// pick chooses the next target group of a forward action by smooth
// weighted round robin; "" when every weight is zero.
func (l *listener) pick(action *protocol.Node, groups []weighted) string {
	state, ok := l.wrr[action]
	if !ok {
		state = map[string]int{}
		l.wrr[action] = state
	}
	total, best := 0, ""
	for _, g := range groups {
		if g.weight == 0 {
			continue
		}
		state[g.arn] += g.weight
		total += g.weight
		if best == "" || state[g.arn] > state[best] {
			best = g.arn
		}
	}
	if best != "" {
		state[best] -= total
	}
	return best
}

type outcome int

const (
	outcomeOK outcome = iota + 1
	outcomeTarget5xx
	outcomeELB5xx
)

// serve routes one request inside a target group: healthy targets in
// round robin; with none healthy, ALB fails open to unhealthy targets; with
// none registered and checked, it answers 503 itself.
func (s *Service) serve(r *region, tgArn string, now time.Time) outcome {
	tg, ok := r.tgs[tgArn]
	if !ok {
		return outcomeELB5xx
	}
	inUse := true
	var healthy, unhealthy []*target
	for _, t := range tg.targets {
		h, ok := tg.health(t, now, inUse)
		if !ok {
			continue
		}
		switch h.state {
		case stateHealthy, stateUnavailable:
			healthy = append(healthy, t)
		case stateUnhealthy:
			unhealthy = append(unhealthy, t)
		}
	}
	pool := healthy
	if len(pool) == 0 {
		pool = unhealthy
	}
	if len(pool) == 0 {
		return outcomeELB5xx
	}
	tg.rr++
	t := pool[tg.rr%len(pool)]
	if tg.typ == "lambda" && s.cfg.Functions != nil {
		return s.invokeTarget(r, t, now)
	}
	if t.behavior.Broken || t.fails() {
		return outcomeTarget5xx
	}
	return outcomeOK
}

// errorEpsilon absorbs float rounding when accumulating error rates.
const errorEpsilon = 1e-9

// fails reports whether the next request to the target fails, spreading
// the target's error rate deterministically over its requests.
func (t *target) fails() bool {
	t.errAcc += t.behavior.ErrorRate
	if t.errAcc >= 1-errorEpsilon {
		t.errAcc--
		return true
	}
	return false
}

// invokeTarget runs a lambda target: a function error is a 502 from the
// load balancer, counted with the target's 5xx.
func (s *Service) invokeTarget(r *region, t *target, now time.Time) outcome {
	failed, ready := s.cfg.Functions.Invoke(r.scope, t.id, now)
	switch {
	case !ready:
		return outcomeELB5xx
	case failed:
		return outcomeTarget5xx
	default:
		return outcomeOK
	}
}

// publish records the traffic as AWS/ApplicationELB metrics.
func (s *Service) publish(r *region, l *listener, res TrafficResult, now time.Time) {
	if s.cfg.Metrics == nil {
		return
	}
	const ns = "AWS/ApplicationELB"
	lbDim := r.lbs[l.lbArn].suffix()
	put := func(name string, dims map[string]string, v float64, unit string) {
		s.cfg.Metrics.PutMetric(r.scope, ns, name, dims, v, unit, now)
	}
	lb := map[string]string{"LoadBalancer": lbDim}
	put("RequestCount", lb, float64(res.Requests), "Count")
	put("HTTPCode_ELB_5XX_Count", lb, float64(res.ELB5xx), "Count")
	for arn, g := range res.ByTargetGroup {
		tg, ok := r.tgs[arn]
		if !ok {
			continue
		}
		dims := map[string]string{"LoadBalancer": lbDim, "TargetGroup": tg.suffix()}
		put("RequestCount", dims, float64(g.Requests), "Count")
		put("HTTPCode_Target_2XX_Count", dims, float64(g.OK), "Count")
		put("HTTPCode_Target_5XX_Count", dims, float64(g.Target5xx), "Count")
		if served := g.OK + g.Target5xx; served > 0 {
			avg := (okResponseTime*float64(g.OK) + brokenResponseTime*float64(g.Target5xx)) / float64(served)
			put("TargetResponseTime", dims, avg, "Seconds")
		}
	}
}

// String formats the result for test failure messages.
func (r TrafficResult) String() string {
	s := fmt.Sprintf("%d requests: %d ok, %d target 5xx, %d elb 5xx", r.Requests, r.OK, r.Target5xx, r.ELB5xx)
	for arn, g := range r.ByTargetGroup {
		s += "\n  " + arn + ": " + strconv.Itoa(g.Requests) + " requests, " + strconv.Itoa(g.Errors()) + " 5xx"
	}
	return s
}
