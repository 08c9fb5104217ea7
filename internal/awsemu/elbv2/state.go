package elbv2

import (
	"fmt"
	"strings"
	"time"

	"github.com/jibe-dev/jibe/internal/awsemu/protocol"
)

// region is the ELBv2 state of one account and region.
type region struct {
	scope     protocol.Scope
	lbs       map[string]*loadBalancer // by ARN
	lbOrder   []string
	tgs       map[string]*targetGroup
	tgOrder   []string
	listeners map[string]*listener
	lsOrder   []string
	rules     map[string]*rule
	tags      map[string]map[string]string
	tagOrder  map[string][]string
}

func newRegion(scope protocol.Scope) *region {
	return &region{
		scope: scope, lbs: map[string]*loadBalancer{}, tgs: map[string]*targetGroup{},
		listeners: map[string]*listener{}, rules: map[string]*rule{},
		tags: map[string]map[string]string{}, tagOrder: map[string][]string{},
	}
}

func (r *region) arn(resource string) string {
	return fmt.Sprintf("arn:aws:elasticloadbalancing:%s:%s:%s", r.scope.Region, r.scope.Account, resource)
}

// loadBalancer is one ALB or NLB.
type loadBalancer struct {
	arn, name, typ, scheme, ipType, vpc, dns string
	subnets, securityGroups                  []string
	created                                  time.Time
	attrs                                    *attributes
}

// state returns "provisioning" for a while after creation, then "active".
func (lb *loadBalancer) state(now time.Time) string {
	if now.Sub(lb.created) < lbProvisionTime {
		return "provisioning"
	}
	return "active"
}

// suffix returns the "app/name/id" part used in metric dimensions.
func (lb *loadBalancer) suffix() string {
	_, s, _ := strings.Cut(lb.arn, ":loadbalancer/")
	return s
}

// targetGroup is one target group and its registered targets.
type targetGroup struct {
	arn, name, protocol, vpc, typ, protocolVersion, ipType string
	port                                                   int
	hc                                                     healthCheck
	attrs                                                  *attributes
	targets                                                []*target
	rr                                                     int // round-robin cursor of the traffic model
}

// healthCheck is a target group's health check settings.
type healthCheck struct {
	enabled                       bool
	protocol, port, path, matcher string
	interval, timeout             int
	healthy, unhealthy            int
}

// suffix returns the "targetgroup/name/id" part used in metric dimensions.
func (tg *targetGroup) suffix() string {
	_, s, _ := strings.Cut(tg.arn, ":")
	i := strings.Index(tg.arn, "targetgroup/")
	if i < 0 {
		return s
	}
	return tg.arn[i:]
}

// deregistrationDelay is the target group's draining time.
func (tg *targetGroup) deregistrationDelay() time.Duration {
	return time.Duration(tg.attrs.int("deregistration_delay.timeout_seconds", 300)) * time.Second
}

// listener is one listener with its default actions.
type listener struct {
	arn, lbArn, protocol, sslPolicy string
	port                            int
	certificates, alpn              *protocol.Node
	actions                         *protocol.Node
	defaultRule                     string
	rules                           []string                          // non-default rule ARNs
	wrr                             map[*protocol.Node]map[string]int // smooth WRR state per action
}

// rule is one listener rule.
type rule struct {
	arn, listener, priority string
	conditions, actions     *protocol.Node
}

// attributes is an ordered key/value attribute set.
type attributes struct {
	keys []string
	vals map[string]string
}

func newAttributes(kv ...string) *attributes {
	a := &attributes{vals: map[string]string{}}
	for i := 0; i+1 < len(kv); i += 2 {
		a.set(kv[i], kv[i+1])
	}
	return a
}

func (a *attributes) set(k, v string) {
	if _, ok := a.vals[k]; !ok {
		a.keys = append(a.keys, k)
	}
	a.vals[k] = v
}

func (a *attributes) int(k string, def int) int {
	var n int
	if _, err := fmt.Sscanf(a.vals[k], "%d", &n); err != nil {
		return def
	}
	return n
}

// xml returns the attributes as an awsQuery list.
func (a *attributes) xml() []xmlAttr {
	out := make([]xmlAttr, 0, len(a.keys))
	for _, k := range a.keys {
		out = append(out, xmlAttr{Key: k, Value: a.vals[k]})
	}
	return out
}

type xmlAttr struct {
	Key   string
	Value string
}

// modify applies Attributes.member.N.Key/Value, rejecting unknown keys.
func (a *attributes) modify(f protocol.Form) error {
	for _, m := range f.List("Attributes") {
		k := m.String("Key")
		if _, ok := a.vals[k]; !ok {
			return validation("Attribute key '%s' is not recognized", k)
		}
		a.set(k, m.String("Value"))
	}
	return nil
}
