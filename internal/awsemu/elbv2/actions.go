package elbv2

import (
	"strconv"

	"github.com/jibe-dev/jibe/internal/awsemu/protocol"
)

// Limits of forward actions.
const (
	maxWeight             = 999
	maxForwardTargetGroup = 5
)

// weighted is one target group of a forward action.
type weighted struct {
	arn    string
	weight int
}

// validActionTypes are the action types ELBv2 accepts.
var validActionTypes = map[string]bool{
	"forward": true, "redirect": true, "fixed-response": true,
	"authenticate-oidc": true, "authenticate-cognito": true,
}

// normalizeActions validates a list of actions and fills in what ELBv2
// adds itself: a forward action by TargetGroupArn gains a ForwardConfig
// with weight 1, and a single-group ForwardConfig gains TargetGroupArn.
func (r *region) normalizeActions(actions *protocol.Node) error {
	if actions == nil || len(actions.Items) == 0 {
		return validation("At least one action must be specified")
	}
	for i, a := range actions.Items {
		typ := a.String("Type")
		if !validActionTypes[typ] {
			return validation("Action type '%s' must be one of 'forward, redirect, fixed-response, authenticate-oidc, authenticate-cognito'", typ)
		}
		if a.String("Order") == "" && len(actions.Items) > 1 {
			a.SetString("Order", strconv.Itoa(i+1))
		}
		if typ != "forward" {
			continue
		}
		if err := r.normalizeForward(a); err != nil {
			return err
		}
	}
	return nil
}

func (r *region) normalizeForward(a *protocol.Node) error {
	groups, err := forwardGroups(a)
	if err != nil {
		return err
	}
	if len(groups) == 0 {
		return validation("A target group ARN must be specified for a forward action")
	}
	if len(groups) > maxForwardTargetGroup {
		return validation("A forward action can have at most %d target groups", maxForwardTargetGroup)
	}
	seen := map[string]bool{}
	for _, g := range groups {
		if _, ok := r.tgs[g.arn]; !ok {
			return tgNotFound(g.arn)
		}
		if seen[g.arn] {
			return validation("Target group '%s' is specified more than once", g.arn)
		}
		seen[g.arn] = true
	}
	if a.Get("ForwardConfig") == nil {
		fc := &protocol.Node{}
		fc.Set("TargetGroups", protocol.List(protocol.Struct("TargetGroupArn", groups[0].arn, "Weight", "1")))
		a.Set("ForwardConfig", fc)
	}
	fc := a.Get("ForwardConfig")
	if fc.Get("TargetGroupStickinessConfig") == nil {
		fc.Set("TargetGroupStickinessConfig", protocol.Struct("Enabled", "false"))
	}
	for _, it := range fc.Get("TargetGroups").Items {
		if it.String("Weight") == "" {
			it.SetString("Weight", "1")
		}
	}
	if len(groups) == 1 && a.String("TargetGroupArn") == "" {
		a.SetString("TargetGroupArn", groups[0].arn)
	}
	return nil
}

// forwardGroups returns the weighted target groups of a forward action,
// validating weights (0..999) and TargetGroupArn/ForwardConfig agreement.
func forwardGroups(a *protocol.Node) ([]weighted, error) {
	direct := a.String("TargetGroupArn")
	fc := a.Get("ForwardConfig")
	if fc == nil || fc.Get("TargetGroups") == nil {
		if direct == "" {
			return nil, nil
		}
		return []weighted{{arn: direct, weight: 1}}, nil
	}
	var out []weighted
	for _, it := range fc.Get("TargetGroups").Items {
		w := 1
		if s := it.String("Weight"); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 0 || n > maxWeight {
				return nil, validation("Target group weight must be between 0 and %d", maxWeight)
			}
			w = n
		}
		out = append(out, weighted{arn: it.String("TargetGroupArn"), weight: w})
	}
	if direct != "" && (len(out) != 1 || out[0].arn != direct) {
		return nil, validation("You cannot specify both a target group ARN and a forward config with different target groups")
	}
	return out, nil
}

// actionGroups returns every target group an action list forwards to.
func actionGroups(actions *protocol.Node) []string {
	var out []string
	if actions == nil {
		return nil
	}
	for _, a := range actions.Items {
		if a.String("Type") != "forward" {
			continue
		}
		groups, _ := forwardGroups(a)
		for _, g := range groups {
			out = append(out, g.arn)
		}
	}
	return out
}

// forwardAction returns the first forward action of a list, or nil.
func forwardAction(actions *protocol.Node) *protocol.Node {
	for _, a := range actions.Items {
		if a.String("Type") == "forward" {
			return a
		}
	}
	return nil
}

// tgLoadBalancers returns the load balancers whose listeners or rules
// forward to the target group.
func (r *region) tgLoadBalancers(tgArn string) []string {
	var out []string
	for _, la := range r.lsOrder {
		l := r.listeners[la]
		if contains(out, l.lbArn) {
			continue
		}
		if r.listenerUses(l, tgArn) {
			out = append(out, l.lbArn)
		}
	}
	return out
}

func (r *region) listenerUses(l *listener, tgArn string) bool {
	if contains(actionGroups(l.actions), tgArn) {
		return true
	}
	for _, ra := range l.rules {
		if contains(actionGroups(r.rules[ra].actions), tgArn) {
			return true
		}
	}
	return false
}
