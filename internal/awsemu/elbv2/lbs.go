package elbv2

import (
	"fmt"
	"strings"
	"time"

	"github.com/jibe-dev/jibe/internal/awsemu/protocol"
)

type xmlLBState struct {
	Code string
}

type xmlAZ struct {
	ZoneName string
	SubnetId string
}

type xmlLoadBalancer struct {
	LoadBalancerArn       string
	DNSName               string
	CanonicalHostedZoneId string
	CreatedTime           string
	LoadBalancerName      string
	Scheme                string
	VpcId                 string
	State                 xmlLBState
	Type                  string
	IpAddressType         string
	AvailabilityZones     []xmlAZ  `xml:"AvailabilityZones>member"`
	SecurityGroups        []string `xml:"SecurityGroups>member"`
}

type loadBalancersResult struct {
	LoadBalancers []xmlLoadBalancer `xml:"LoadBalancers>member"`
	NextMarker    string            `xml:",omitempty"`
}

func (s *Service) createLoadBalancer(r *region, f protocol.Form, now time.Time) (any, error) {
	name := f.String("Name")
	if err := checkName("The load balancer name", name); err != nil {
		return nil, err
	}
	if strings.HasPrefix(name, "internal-") {
		return nil, validation("The load balancer name '%s' cannot begin with 'internal-'", name)
	}
	for _, arn := range r.lbOrder {
		if lb := r.lbs[arn]; lb.name == name {
			return &loadBalancersResult{LoadBalancers: []xmlLoadBalancer{lb.xml(r, now)}}, nil
		}
	}
	lb := &loadBalancer{
		name: name, typ: orDefault(f.String("Type"), "application"),
		scheme: orDefault(f.String("Scheme"), "internet-facing"), ipType: orDefault(f.String("IpAddressType"), "ipv4"),
		subnets: f.Strings("Subnets"), securityGroups: f.Strings("SecurityGroups"), created: now,
		vpc: "vpc-emulated", attrs: lbAttributes(),
	}
	kind := map[string]string{"application": "app", "network": "net", "gateway": "gwy"}[lb.typ]
	if kind == "" {
		return nil, validation("Load balancer type '%s' is not valid", lb.typ)
	}
	id := s.newID()
	lb.arn = r.arn(fmt.Sprintf("loadbalancer/%s/%s/%s", kind, name, id))
	lb.dns = fmt.Sprintf("%s-%s.%s.elb.amazonaws.com", name, id[8:], r.scope.Region)
	r.lbs[lb.arn] = lb
	r.lbOrder = append(r.lbOrder, lb.arn)
	r.setTags(lb.arn, f.List("Tags"))
	return &loadBalancersResult{LoadBalancers: []xmlLoadBalancer{lb.xml(r, now)}}, nil
}

func lbAttributes() *attributes {
	return newAttributes("deletion_protection.enabled", "false", "idle_timeout.timeout_seconds", "60",
		"routing.http2.enabled", "true", "access_logs.s3.enabled", "false", "access_logs.s3.bucket", "",
		"access_logs.s3.prefix", "", "load_balancing.cross_zone.enabled", "true")
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func (lb *loadBalancer) xml(r *region, now time.Time) xmlLoadBalancer {
	x := xmlLoadBalancer{
		LoadBalancerArn: lb.arn, DNSName: lb.dns, CanonicalHostedZoneId: "Z35SXDOTRQ7X7K",
		CreatedTime: isoTime(lb.created), LoadBalancerName: lb.name, Scheme: lb.scheme, VpcId: lb.vpc,
		State: xmlLBState{Code: lb.state(now)}, Type: lb.typ, IpAddressType: lb.ipType,
		SecurityGroups: lb.securityGroups,
	}
	for i, sn := range lb.subnets {
		x.AvailabilityZones = append(x.AvailabilityZones, xmlAZ{ZoneName: fmt.Sprintf("%s%c", r.scope.Region, 'a'+i%6), SubnetId: sn})
	}
	return x
}

func (s *Service) describeLoadBalancers(r *region, f protocol.Form, now time.Time) (any, error) {
	arns, names := f.Strings("LoadBalancerArns"), f.Strings("Names")
	var found []*loadBalancer
	switch {
	case len(arns) > 0:
		for _, arn := range arns {
			lb, ok := r.lbs[arn]
			if !ok {
				return nil, protocol.Errorf("LoadBalancerNotFound", "Load balancers '[%s]' not found", arn)
			}
			found = append(found, lb)
		}
	case len(names) > 0:
		for _, n := range names {
			lb := r.lbByName(n)
			if lb == nil {
				return nil, protocol.Errorf("LoadBalancerNotFound", "Load balancers '[%s]' not found", n)
			}
			found = append(found, lb)
		}
	default:
		for _, arn := range r.lbOrder {
			found = append(found, r.lbs[arn])
		}
	}
	start, end, next, err := page(len(found), f)
	if err != nil {
		return nil, err
	}
	out := &loadBalancersResult{NextMarker: next}
	for _, lb := range found[start:end] {
		out.LoadBalancers = append(out.LoadBalancers, lb.xml(r, now))
	}
	return out, nil
}

// page applies Marker/PageSize (at most 400) to n items.
func page(n int, f protocol.Form) (start, end int, next string, err error) {
	size, _ := f.Int("PageSize")
	if size > 400 {
		return 0, 0, "", validation("PageSize must be between 1 and 400")
	}
	start, end, next, err = protocol.Page(n, f.String("Marker"), size, 400)
	if err != nil {
		return 0, 0, "", validation("invalid marker")
	}
	return start, end, next, nil
}

func (r *region) lbByName(name string) *loadBalancer {
	for _, arn := range r.lbOrder {
		if r.lbs[arn].name == name {
			return r.lbs[arn]
		}
	}
	return nil
}

func (s *Service) deleteLoadBalancer(r *region, f protocol.Form, now time.Time) (any, error) {
	arn := f.String("LoadBalancerArn")
	lb, ok := r.lbs[arn]
	if !ok {
		return nil, nil // deleting a missing load balancer succeeds
	}
	if lb.attrs.vals["deletion_protection.enabled"] == "true" {
		return nil, protocol.Errorf("OperationNotPermitted", "Load balancer '%s' cannot be deleted because deletion protection is enabled", arn)
	}
	for _, la := range append([]string(nil), r.lsOrder...) {
		if r.listeners[la].lbArn == arn {
			r.removeListener(la)
		}
	}
	delete(r.lbs, arn)
	r.lbOrder = remove(r.lbOrder, arn)
	delete(r.tags, arn)
	return nil, nil
}

func remove(list []string, s string) []string {
	out := list[:0]
	for _, v := range list {
		if v != s {
			out = append(out, v)
		}
	}
	return out
}

type attributesResult struct {
	Attributes []xmlAttr `xml:"Attributes>member"`
}

func (s *Service) describeLoadBalancerAttributes(r *region, f protocol.Form, now time.Time) (any, error) {
	lb, ok := r.lbs[f.String("LoadBalancerArn")]
	if !ok {
		return nil, protocol.Errorf("LoadBalancerNotFound", "Load balancer '%s' not found", f.String("LoadBalancerArn"))
	}
	return &attributesResult{Attributes: lb.attrs.xml()}, nil
}

func (s *Service) modifyLoadBalancerAttributes(r *region, f protocol.Form, now time.Time) (any, error) {
	lb, ok := r.lbs[f.String("LoadBalancerArn")]
	if !ok {
		return nil, protocol.Errorf("LoadBalancerNotFound", "Load balancer '%s' not found", f.String("LoadBalancerArn"))
	}
	if err := lb.attrs.modify(f); err != nil {
		return nil, err
	}
	return &attributesResult{Attributes: lb.attrs.xml()}, nil
}
