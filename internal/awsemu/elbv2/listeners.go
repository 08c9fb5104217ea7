package elbv2

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jibe-dev/jibe/internal/awsemu/protocol"
)

type xmlListener struct {
	ListenerArn     string
	LoadBalancerArn string
	Port            int
	Protocol        string
	SslPolicy       string         `xml:",omitempty"`
	Certificates    *protocol.Node `xml:",omitempty"`
	AlpnPolicy      *protocol.Node `xml:",omitempty"`
	DefaultActions  *protocol.Node
}

type listenersResult struct {
	Listeners  []xmlListener `xml:"Listeners>member"`
	NextMarker string        `xml:",omitempty"`
}

func (l *listener) xml() xmlListener {
	return xmlListener{ListenerArn: l.arn, LoadBalancerArn: l.lbArn, Port: l.port, Protocol: l.protocol,
		SslPolicy: l.sslPolicy, Certificates: l.certificates, AlpnPolicy: l.alpn, DefaultActions: l.actions}
}

func (s *Service) createListener(r *region, f protocol.Form, now time.Time) (any, error) {
	lb, ok := r.lbs[f.String("LoadBalancerArn")]
	if !ok {
		return nil, protocol.Errorf("LoadBalancerNotFound", "Load balancer '%s' not found", f.String("LoadBalancerArn"))
	}
	port, _ := f.Int("Port")
	for _, la := range r.lsOrder {
		if l := r.listeners[la]; l.lbArn == lb.arn && l.port == port {
			return nil, protocol.Errorf("DuplicateListener", "A listener already exists on this port for this load balancer '%s'", lb.arn)
		}
	}
	l := &listener{lbArn: lb.arn, port: port, protocol: orDefault(f.String("Protocol"), "HTTP"), sslPolicy: f.String("SslPolicy"),
		certificates: f.Tree("Certificates"), alpn: f.Tree("AlpnPolicy"), actions: f.Tree("DefaultActions"), wrr: map[*protocol.Node]map[string]int{}}
	if port < 1 || port > 65535 {
		return nil, validation("Listener port must be between 1 and 65535")
	}
	if err := r.normalizeActions(l.actions); err != nil {
		return nil, err
	}
	if err := r.checkAssociation(lb.arn, l.actions); err != nil {
		return nil, err
	}
	lbPath := lb.suffix()
	l.arn = r.arn(fmt.Sprintf("listener/%s/%s", lbPath, s.newID()))
	l.defaultRule = r.arn(fmt.Sprintf("listener-rule/%s/%s/%s", lbPath, l.arn[strings.LastIndex(l.arn, "/")+1:], s.newID()))
	r.listeners[l.arn] = l
	r.lsOrder = append(r.lsOrder, l.arn)
	r.setTags(l.arn, f.List("Tags"))
	return &listenersResult{Listeners: []xmlListener{l.xml()}}, nil
}

func (s *Service) describeListeners(r *region, f protocol.Form, now time.Time) (any, error) {
	var found []*listener
	if arns := f.Strings("ListenerArns"); len(arns) > 0 {
		for _, arn := range arns {
			l, ok := r.listeners[arn]
			if !ok {
				return nil, listenerNotFound(arn)
			}
			found = append(found, l)
		}
	} else {
		lbArn := f.String("LoadBalancerArn")
		if _, ok := r.lbs[lbArn]; !ok {
			return nil, protocol.Errorf("LoadBalancerNotFound", "Load balancer '%s' not found", lbArn)
		}
		for _, la := range r.lsOrder {
			if r.listeners[la].lbArn == lbArn {
				found = append(found, r.listeners[la])
			}
		}
	}
	start, end, next, err := page(len(found), f)
	if err != nil {
		return nil, err
	}
	out := &listenersResult{NextMarker: next}
	for _, l := range found[start:end] {
		out.Listeners = append(out.Listeners, l.xml())
	}
	return out, nil
}

func listenerNotFound(arn string) error {
	return protocol.Errorf("ListenerNotFound", "One or more listeners not found: '%s'", arn)
}

func (r *region) findListener(arn string) (*listener, error) {
	l, ok := r.listeners[arn]
	if !ok {
		return nil, listenerNotFound(arn)
	}
	return l, nil
}

func (s *Service) modifyListener(r *region, f protocol.Form, now time.Time) (any, error) {
	l, err := r.findListener(f.String("ListenerArn"))
	if err != nil {
		return nil, err
	}
	if actions := f.Tree("DefaultActions"); actions != nil {
		if err := r.normalizeActions(actions); err != nil {
			return nil, err
		}
		if err := r.checkAssociation(l.lbArn, actions); err != nil {
			return nil, err
		}
		l.actions = actions
	}
	if port, ok := f.Int("Port"); ok {
		l.port = port
	}
	if p := f.String("Protocol"); p != "" {
		l.protocol = p
	}
	if p := f.String("SslPolicy"); p != "" {
		l.sslPolicy = p
	}
	if c := f.Tree("Certificates"); c != nil {
		l.certificates = c
	}
	return &listenersResult{Listeners: []xmlListener{l.xml()}}, nil
}

func (s *Service) deleteListener(r *region, f protocol.Form, now time.Time) (any, error) {
	arn := f.String("ListenerArn")
	if _, err := r.findListener(arn); err != nil {
		return nil, err
	}
	r.removeListener(arn)
	return nil, nil
}

func (r *region) removeListener(arn string) {
	for _, ra := range r.listeners[arn].rules {
		delete(r.rules, ra)
		delete(r.tags, ra)
	}
	delete(r.listeners, arn)
	r.lsOrder = remove(r.lsOrder, arn)
	delete(r.tags, arn)
}

type xmlRule struct {
	RuleArn    string
	Priority   string
	Conditions *protocol.Node
	Actions    *protocol.Node
	IsDefault  bool
}

type rulesResult struct {
	Rules      []xmlRule `xml:"Rules>member"`
	NextMarker string    `xml:",omitempty"`
}

func (ru *rule) xml() xmlRule {
	return xmlRule{RuleArn: ru.arn, Priority: ru.priority, Conditions: orEmptyList(ru.conditions), Actions: ru.actions}
}

func orEmptyList(n *protocol.Node) *protocol.Node {
	if n == nil {
		return protocol.List()
	}
	return n
}

func (s *Service) createRule(r *region, f protocol.Form, now time.Time) (any, error) {
	l, err := r.findListener(f.String("ListenerArn"))
	if err != nil {
		return nil, err
	}
	prio, ok := f.Int("Priority")
	if !ok || prio < 1 || prio > 50000 {
		return nil, validation("Priority must be between 1 and 50000")
	}
	for _, ra := range l.rules {
		if r.rules[ra].priority == strconv.Itoa(prio) {
			return nil, protocol.Errorf("PriorityInUse", "Priority '%d' is currently in use", prio)
		}
	}
	ru := &rule{listener: l.arn, priority: strconv.Itoa(prio), conditions: f.Tree("Conditions"), actions: f.Tree("Actions")}
	if ru.conditions == nil || len(ru.conditions.Items) == 0 {
		return nil, validation("A rule must have at least one condition")
	}
	if err := checkConditionValues(ru.conditions); err != nil {
		return nil, err
	}
	if err := r.normalizeActions(ru.actions); err != nil {
		return nil, err
	}
	if err := r.checkAssociation(l.lbArn, ru.actions); err != nil {
		return nil, err
	}
	ru.arn = l.defaultRule[:strings.LastIndex(l.defaultRule, "/")+1] + s.newID()
	r.rules[ru.arn] = ru
	l.rules = append(l.rules, ru.arn)
	r.setTags(ru.arn, f.List("Tags"))
	return &rulesResult{Rules: []xmlRule{ru.xml()}}, nil
}

func (s *Service) describeRules(r *region, f protocol.Form, now time.Time) (any, error) {
	var out []xmlRule
	if arns := f.Strings("RuleArns"); len(arns) > 0 {
		for _, arn := range arns {
			x, ok := r.ruleXML(arn)
			if !ok {
				return nil, protocol.Errorf("RuleNotFound", "One or more rules not found")
			}
			out = append(out, x)
		}
	} else {
		l, err := r.findListener(f.String("ListenerArn"))
		if err != nil {
			return nil, err
		}
		out = r.listenerRules(l)
	}
	start, end, next, err := page(len(out), f)
	if err != nil {
		return nil, err
	}
	return &rulesResult{Rules: out[start:end], NextMarker: next}, nil
}

// listenerRules returns the rules by priority, the default rule last.
func (r *region) listenerRules(l *listener) []xmlRule {
	var out []xmlRule
	for _, ra := range l.rules {
		out = append(out, r.rules[ra].xml())
	}
	sort.Slice(out, func(i, j int) bool {
		a, _ := strconv.Atoi(out[i].Priority)
		b, _ := strconv.Atoi(out[j].Priority)
		return a < b
	})
	return append(out, xmlRule{RuleArn: l.defaultRule, Priority: "default", Conditions: protocol.List(), Actions: l.actions, IsDefault: true})
}

func (r *region) ruleXML(arn string) (xmlRule, bool) {
	if ru, ok := r.rules[arn]; ok {
		return ru.xml(), true
	}
	for _, la := range r.lsOrder {
		if l := r.listeners[la]; l.defaultRule == arn {
			return xmlRule{RuleArn: arn, Priority: "default", Conditions: protocol.List(), Actions: l.actions, IsDefault: true}, true
		}
	}
	return xmlRule{}, false
}

func (s *Service) modifyRule(r *region, f protocol.Form, now time.Time) (any, error) {
	arn := f.String("RuleArn")
	if _, ok := r.ruleXML(arn); !ok {
		return nil, protocol.Errorf("RuleNotFound", "One or more rules not found")
	}
	actions := f.Tree("Actions")
	if actions != nil {
		if err := r.normalizeActions(actions); err != nil {
			return nil, err
		}
		if err := r.checkAssociation(r.ruleLoadBalancer(arn), actions); err != nil {
			return nil, err
		}
	}
	if c := f.Tree("Conditions"); c != nil {
		if err := checkConditionValues(c); err != nil {
			return nil, err
		}
	}
	ru, ok := r.rules[arn]
	if !ok { // the default rule: only its actions can change
		if actions != nil {
			r.listenerOfDefaultRule(arn).actions = actions
		}
		x, _ := r.ruleXML(arn)
		return &rulesResult{Rules: []xmlRule{x}}, nil
	}
	if actions != nil {
		ru.actions = actions
	}
	if c := f.Tree("Conditions"); c != nil {
		ru.conditions = c
	}
	return &rulesResult{Rules: []xmlRule{ru.xml()}}, nil
}

func (r *region) listenerOfDefaultRule(arn string) *listener {
	for _, la := range r.lsOrder {
		if l := r.listeners[la]; l.defaultRule == arn {
			return l
		}
	}
	return nil
}

func (s *Service) deleteRule(r *region, f protocol.Form, now time.Time) (any, error) {
	arn := f.String("RuleArn")
	ru, ok := r.rules[arn]
	if !ok {
		if r.listenerOfDefaultRule(arn) != nil {
			return nil, protocol.Errorf("OperationNotPermitted", "Default rule '%s' cannot be deleted", arn)
		}
		return nil, protocol.Errorf("RuleNotFound", "One or more rules not found")
	}
	l := r.listeners[ru.listener]
	l.rules = remove(l.rules, arn)
	delete(r.rules, arn)
	delete(r.tags, arn)
	return nil, nil
}

func (s *Service) setRulePriorities(r *region, f protocol.Form, now time.Time) (any, error) {
	var out []xmlRule
	for _, m := range f.List("RulePriorities") {
		ru, ok := r.rules[m.String("RuleArn")]
		if !ok {
			return nil, protocol.Errorf("RuleNotFound", "One or more rules not found")
		}
		ru.priority = m.String("Priority")
		out = append(out, ru.xml())
	}
	return &rulesResult{Rules: out}, nil
}
