package elbv2

import (
	"fmt"
	"strconv"
	"time"

	"github.com/jibe-dev/jibe/internal/awsemu/protocol"
)

type xmlMatcher struct {
	HttpCode string `xml:",omitempty"`
}

type xmlTargetGroup struct {
	TargetGroupArn             string
	TargetGroupName            string
	Protocol                   string `xml:",omitempty"`
	Port                       *int   `xml:",omitempty"`
	VpcId                      string `xml:",omitempty"`
	HealthCheckProtocol        string `xml:",omitempty"`
	HealthCheckPort            string `xml:",omitempty"`
	HealthCheckEnabled         bool
	HealthCheckIntervalSeconds int
	HealthCheckTimeoutSeconds  int
	HealthyThresholdCount      int
	UnhealthyThresholdCount    int
	HealthCheckPath            string      `xml:",omitempty"`
	Matcher                    *xmlMatcher `xml:",omitempty"`
	LoadBalancerArns           []string    `xml:"LoadBalancerArns>member"`
	TargetType                 string
	ProtocolVersion            string `xml:",omitempty"`
	IpAddressType              string `xml:",omitempty"`
}

type targetGroupsResult struct {
	TargetGroups []xmlTargetGroup `xml:"TargetGroups>member"`
	NextMarker   string           `xml:",omitempty"`
}

func (s *Service) createTargetGroup(r *region, f protocol.Form, now time.Time) (any, error) {
	tg, err := newTargetGroup(f)
	if err != nil {
		return nil, err
	}
	if old := r.tgByName(tg.name); old != nil {
		if old.protocol != tg.protocol || old.port != tg.port || old.typ != tg.typ || old.vpc != tg.vpc {
			return nil, protocol.Errorf("DuplicateTargetGroupName", "A target group with the same name '%s' exists, but with different settings", tg.name)
		}
		return &targetGroupsResult{TargetGroups: []xmlTargetGroup{r.tgXML(old)}}, nil
	}
	tg.arn = r.arn(fmt.Sprintf("targetgroup/%s/%s", tg.name, s.newID()))
	r.tgs[tg.arn] = tg
	r.tgOrder = append(r.tgOrder, tg.arn)
	r.setTags(tg.arn, f.List("Tags"))
	return &targetGroupsResult{TargetGroups: []xmlTargetGroup{r.tgXML(tg)}}, nil
}

// newTargetGroup validates CreateTargetGroup parameters and applies ALB
// defaults (30s interval, 5 healthy / 2 unhealthy checks).
func newTargetGroup(f protocol.Form) (*targetGroup, error) {
	tg := &targetGroup{
		name: f.String("Name"), protocol: f.String("Protocol"), vpc: f.String("VpcId"),
		typ: orDefault(f.String("TargetType"), "instance"), protocolVersion: f.String("ProtocolVersion"),
		ipType: f.String("IpAddressType"),
	}
	if err := checkName("Target group name", tg.name); err != nil {
		return nil, err
	}
	tg.port, _ = f.Int("Port")
	if tg.port < 0 {
		return nil, validation("1 validation error detected: Value '%d' at 'port' failed to satisfy constraint: Member must have value greater than or equal to 1", tg.port)
	}
	if tg.port > 65535 {
		return nil, validation("1 validation error detected: Value '%d' at 'port' failed to satisfy constraint: Member must have value less than or equal to 65535", tg.port)
	}
	if tg.typ == "lambda" {
		if tg.protocol != "" || tg.port != 0 {
			return nil, validation("Protocol and port cannot be specified for target groups with target type 'lambda'")
		}
	} else if tg.protocol == "" || tg.port == 0 || tg.vpc == "" {
		return nil, validation("A protocol, port and VPC ID must be specified for target type '%s'", tg.typ)
	}
	if tg.typ != "lambda" && tg.protocolVersion == "" && (tg.protocol == "HTTP" || tg.protocol == "HTTPS") {
		tg.protocolVersion = "HTTP1"
	}
	tg.hc = healthCheck{enabled: tg.typ != "lambda", protocol: tg.protocol, port: "traffic-port", path: "/", matcher: "200",
		interval: 30, timeout: defaultTimeout(tg.protocol), healthy: 5, unhealthy: 2}
	if tg.typ == "lambda" {
		tg.hc = healthCheck{interval: 35, timeout: 30, healthy: 5, unhealthy: 2, path: "/", matcher: "200"}
	}
	if err := tg.hc.apply(f); err != nil {
		return nil, err
	}
	tg.attrs = newAttributes("deregistration_delay.timeout_seconds", "300", "stickiness.enabled", "false",
		"stickiness.type", "lb_cookie", "stickiness.lb_cookie.duration_seconds", "86400",
		"slow_start.duration_seconds", "0", "load_balancing.algorithm.type", "round_robin")
	if tg.typ == "lambda" {
		tg.attrs = newAttributes("lambda.multi_value_headers.enabled", "false")
	}
	return tg, nil
}

// defaultTimeout is the health check timeout of a new target group of
// the protocol: 6s for HTTP, 5s for GENEVE, 10s for the others.
func defaultTimeout(protocol string) int {
	switch protocol {
	case "HTTP":
		return 6
	case "GENEVE":
		return 5
	default:
		return 10
	}
}

// apply sets the health check parameters present in f.
func (hc *healthCheck) apply(f protocol.Form) error {
	if v, ok := f.Bool("HealthCheckEnabled"); ok {
		hc.enabled = v
	}
	for name, dst := range map[string]*int{"HealthCheckIntervalSeconds": &hc.interval, "HealthCheckTimeoutSeconds": &hc.timeout,
		"HealthyThresholdCount": &hc.healthy, "UnhealthyThresholdCount": &hc.unhealthy} {
		if v, ok := f.Int(name); ok {
			*dst = v
		}
	}
	if hc.interval < 5 || hc.interval > 300 {
		return validation("Health check interval must be between 5 and 300 seconds")
	}
	if hc.healthy < 2 || hc.healthy > 10 || hc.unhealthy < 2 || hc.unhealthy > 10 {
		return validation("Health check threshold counts must be between 2 and 10")
	}
	if hc.timeout < 2 || hc.timeout > 120 {
		return validation("Health check timeout must be between 2 and 120 seconds")
	}
	if hc.timeout >= hc.interval {
		return validation("Health check interval must be greater than the timeout.")
	}
	hc.protocol = orDefault(f.String("HealthCheckProtocol"), hc.protocol)
	hc.port = orDefault(f.String("HealthCheckPort"), hc.port)
	hc.path = orDefault(f.String("HealthCheckPath"), hc.path)
	hc.matcher = orDefault(f.String("Matcher.HttpCode"), hc.matcher)
	return nil
}

func (r *region) tgByName(name string) *targetGroup {
	for _, arn := range r.tgOrder {
		if r.tgs[arn].name == name {
			return r.tgs[arn]
		}
	}
	return nil
}

func (r *region) tgXML(tg *targetGroup) xmlTargetGroup {
	x := xmlTargetGroup{
		TargetGroupArn: tg.arn, TargetGroupName: tg.name, Protocol: tg.protocol, VpcId: tg.vpc,
		HealthCheckEnabled: tg.hc.enabled, HealthCheckIntervalSeconds: tg.hc.interval,
		HealthCheckTimeoutSeconds: tg.hc.timeout, HealthyThresholdCount: tg.hc.healthy,
		UnhealthyThresholdCount: tg.hc.unhealthy, HealthCheckPath: tg.hc.path, Matcher: &xmlMatcher{HttpCode: tg.hc.matcher},
		LoadBalancerArns: r.tgLoadBalancers(tg.arn), TargetType: tg.typ, ProtocolVersion: tg.protocolVersion, IpAddressType: tg.ipType,
	}
	if tg.typ != "lambda" {
		port := tg.port
		x.Port, x.HealthCheckProtocol, x.HealthCheckPort = &port, tg.hc.protocol, tg.hc.port
	}
	return x
}

func (s *Service) describeTargetGroups(r *region, f protocol.Form, now time.Time) (any, error) {
	found, err := r.selectTargetGroups(f)
	if err != nil {
		return nil, err
	}
	start, end, next, err := page(len(found), f)
	if err != nil {
		return nil, err
	}
	out := &targetGroupsResult{NextMarker: next}
	for _, tg := range found[start:end] {
		out.TargetGroups = append(out.TargetGroups, r.tgXML(tg))
	}
	return out, nil
}

// selectTargetGroups applies DescribeTargetGroups' filters.
func (r *region) selectTargetGroups(f protocol.Form) ([]*targetGroup, error) {
	var found []*targetGroup
	if arns := f.Strings("TargetGroupArns"); len(arns) > 0 {
		for _, arn := range arns {
			tg, ok := r.tgs[arn]
			if !ok {
				return nil, tgNotFound(arn)
			}
			found = append(found, tg)
		}
		return found, nil
	}
	if names := f.Strings("Names"); len(names) > 0 {
		for _, n := range names {
			tg := r.tgByName(n)
			if tg == nil {
				return nil, tgNotFound(n)
			}
			found = append(found, tg)
		}
		return found, nil
	}
	lbArn := f.String("LoadBalancerArn")
	if lbArn != "" {
		if _, ok := r.lbs[lbArn]; !ok {
			return nil, protocol.Errorf("LoadBalancerNotFound", "Load balancer '%s' not found", lbArn)
		}
	}
	for _, arn := range r.tgOrder {
		if lbArn == "" || contains(r.tgLoadBalancers(arn), lbArn) {
			found = append(found, r.tgs[arn])
		}
	}
	return found, nil
}

func tgNotFound(ref string) error {
	return protocol.Errorf("TargetGroupNotFound", "Target groups '[%s]' not found", ref)
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func (r *region) findTG(arn string) (*targetGroup, error) {
	tg, ok := r.tgs[arn]
	if !ok {
		return nil, tgNotFound(arn)
	}
	return tg, nil
}

func (s *Service) modifyTargetGroup(r *region, f protocol.Form, now time.Time) (any, error) {
	tg, err := r.findTG(f.String("TargetGroupArn"))
	if err != nil {
		return nil, err
	}
	hc := tg.hc
	if err := hc.apply(f); err != nil {
		return nil, err
	}
	tg.hc = hc
	return &targetGroupsResult{TargetGroups: []xmlTargetGroup{r.tgXML(tg)}}, nil
}

func (s *Service) deleteTargetGroup(r *region, f protocol.Form, now time.Time) (any, error) {
	arn := f.String("TargetGroupArn")
	if _, ok := r.tgs[arn]; !ok {
		return nil, nil
	}
	if len(r.tgLoadBalancers(arn)) > 0 {
		return nil, protocol.Errorf("ResourceInUse", "Target group '%s' is currently in use by a listener or a rule", arn)
	}
	delete(r.tgs, arn)
	r.tgOrder = remove(r.tgOrder, arn)
	delete(r.tags, arn)
	return nil, nil
}

func (s *Service) describeTargetGroupAttributes(r *region, f protocol.Form, now time.Time) (any, error) {
	tg, err := r.findTG(f.String("TargetGroupArn"))
	if err != nil {
		return nil, err
	}
	return &attributesResult{Attributes: tg.attrs.xml()}, nil
}

func (s *Service) modifyTargetGroupAttributes(r *region, f protocol.Form, now time.Time) (any, error) {
	tg, err := r.findTG(f.String("TargetGroupArn"))
	if err != nil {
		return nil, err
	}
	for _, m := range f.List("Attributes") {
		if m.String("Key") != "deregistration_delay.timeout_seconds" {
			continue
		}
		if n, err := strconv.Atoi(m.String("Value")); err != nil || n < 0 || n > 3600 {
			return nil, validation("deregistration_delay.timeout_seconds must be between 0 and 3600")
		}
	}
	if err := tg.attrs.modify(f); err != nil {
		return nil, err
	}
	return &attributesResult{Attributes: tg.attrs.xml()}, nil
}
