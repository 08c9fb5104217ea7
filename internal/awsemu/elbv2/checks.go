package elbv2

import (
	"net/netip"
	"regexp"
	"strings"

	"github.com/jibe-dev/jibe/internal/awsemu/protocol"
)

// checkAssociation refuses actions of a listener of load balancer lbArn
// that forward to a target group another load balancer already uses, as
// ELBv2 does (a target group serves one load balancer).
func (r *region) checkAssociation(lbArn string, actions *protocol.Node) error {
	var taken []string
	for _, tg := range actionGroups(actions) {
		for _, other := range r.tgLoadBalancers(tg) {
			if other != lbArn && !contains(taken, tg) {
				taken = append(taken, tg)
			}
		}
	}
	if len(taken) > 0 {
		return protocol.Errorf("TargetGroupAssociationLimit", "The following target groups cannot be associated with more than one load balancer: %s", strings.Join(taken, ", "))
	}
	return nil
}

// ruleLoadBalancer returns the load balancer of a rule (default or not).
func (r *region) ruleLoadBalancer(ruleArn string) string {
	if ru, ok := r.rules[ruleArn]; ok {
		if l, ok := r.listeners[ru.listener]; ok {
			return l.lbArn
		}
		return ""
	}
	if l := r.listenerOfDefaultRule(ruleArn); l != nil {
		return l.lbArn
	}
	return ""
}

// instanceID matches EC2 instance ids (8 or 17 hexadecimal digits).
var instanceID = regexp.MustCompile(`^i-([0-9a-f]{8}|[0-9a-f]{17})$`)

// checkTargetID refuses a target id of the wrong kind for the target
// group's type, with ELBv2's ValidationError.
func (tg *targetGroup) checkTargetID(id string) error {
	switch tg.typ {
	case "instance":
		if !instanceID.MatchString(id) {
			return validation("Instance ID '%s' is not valid", id)
		}
	case "ip":
		addr, err := netip.ParseAddr(id)
		if err != nil || (tg.ipType != "ipv6" && !addr.Is4()) {
			return validation("The IP address '%s' is not a valid IPv4 address", id)
		}
	}
	return nil
}
