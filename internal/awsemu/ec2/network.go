package ec2

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/jibe-dev/jibe/internal/awsemu/protocol"
)

// subnet is a VPC subnet; only its identity is modelled.
type subnet struct {
	id, vpc, cidr, zone string
}

// securityGroup is a VPC security group; its rules are not modelled.
type securityGroup struct {
	id, name, description, vpc string
}

type xmlSubnet struct {
	SubnetId         string `xml:"subnetId"`
	VpcId            string `xml:"vpcId"`
	CidrBlock        string `xml:"cidrBlock"`
	AvailabilityZone string `xml:"availabilityZone"`
	State            string `xml:"state"`
	SubnetArn        string `xml:"subnetArn"`
	OwnerId          string `xml:"ownerId"`
}

type xmlSecurityGroup struct {
	GroupId          string `xml:"groupId"`
	GroupName        string `xml:"groupName"`
	GroupDescription string `xml:"groupDescription"`
	VpcId            string `xml:"vpcId"`
	OwnerId          string `xml:"ownerId"`
	SecurityGroupArn string `xml:"securityGroupArn"`
}

func (n *subnet) xml(c *protocol.Call) xmlSubnet {
	return xmlSubnet{SubnetId: n.id, VpcId: n.vpc, CidrBlock: n.cidr, AvailabilityZone: n.zone, State: "available",
		SubnetArn: fmt.Sprintf("arn:aws:ec2:%s:%s:subnet/%s", c.Region, c.Account, n.id), OwnerId: c.Account}
}

func (g *securityGroup) xml(c *protocol.Call) xmlSecurityGroup {
	return xmlSecurityGroup{GroupId: g.id, GroupName: g.name, GroupDescription: g.description, VpcId: g.vpc, OwnerId: c.Account,
		SecurityGroupArn: fmt.Sprintf("arn:aws:ec2:%s:%s:security-group/%s", c.Region, c.Account, g.id)}
}

type createSubnetResult struct {
	Subnet xmlSubnet `xml:"subnet"`
}

func (s *Service) createSubnet(r *region, f protocol.Form, c *protocol.Call) (any, error) {
	vpc, cidr := f.String("VpcId"), f.String("CidrBlock")
	if vpc == "" || cidr == "" {
		return nil, protocol.Errorf("MissingParameter", "The request must contain the parameters VpcId and CidrBlock")
	}
	zone := f.String("AvailabilityZone")
	if zone == "" {
		zone = c.Region + "a"
	}
	n := &subnet{id: s.newResourceID("subnet"), vpc: vpc, cidr: cidr, zone: zone}
	r.subnets[n.id] = n
	return &createSubnetResult{Subnet: n.xml(c)}, nil
}

type describeSubnetsResult struct {
	Subnets []xmlSubnet `xml:"subnetSet>item"`
}

// describeSubnets answers by SubnetId.N (every id must exist, as on AWS)
// and filters on subnet-id and vpc-id (which match what exists).
func (s *Service) describeSubnets(r *region, f protocol.Form, c *protocol.Call) (any, error) {
	ids := f.FlatStrings("SubnetId")
	if missing := missingKeys(r.subnets, ids); len(missing) > 0 {
		return nil, notFound("InvalidSubnetID.NotFound", "subnet ID", missing)
	}
	filters := parseFilters(f)
	out := &describeSubnetsResult{}
	for _, id := range sortedKeys(r.subnets) {
		n := r.subnets[id]
		if (len(ids) == 0 || slices.Contains(ids, id)) && filters.match(map[string]string{"subnet-id": id, "vpc-id": n.vpc}) {
			out.Subnets = append(out.Subnets, n.xml(c))
		}
	}
	return out, nil
}

type returnResult struct {
	Return bool `xml:"return"`
}

func (s *Service) deleteSubnet(r *region, f protocol.Form, c *protocol.Call) (any, error) {
	id := f.String("SubnetId")
	if _, ok := r.subnets[id]; !ok {
		return nil, notFound("InvalidSubnetID.NotFound", "subnet ID", []string{id})
	}
	delete(r.subnets, id)
	return &returnResult{Return: true}, nil
}

type createGroupResult struct {
	Return  bool   `xml:"return"`
	GroupId string `xml:"groupId"`
}

func (s *Service) createSecurityGroup(r *region, f protocol.Form, c *protocol.Call) (any, error) {
	name, desc := f.String("GroupName"), f.String("GroupDescription")
	if name == "" || desc == "" {
		return nil, protocol.Errorf("MissingParameter", "The request must contain the parameters GroupName and GroupDescription")
	}
	for _, g := range r.groups {
		if g.name == name && g.vpc == f.String("VpcId") {
			return nil, protocol.Errorf("InvalidGroup.Duplicate", "The security group '%s' already exists for VPC '%s'", name, g.vpc)
		}
	}
	g := &securityGroup{id: s.newResourceID("sg"), name: name, description: desc, vpc: f.String("VpcId")}
	r.groups[g.id] = g
	return &createGroupResult{Return: true, GroupId: g.id}, nil
}

type describeGroupsResult struct {
	Groups []xmlSecurityGroup `xml:"securityGroupInfo>item"`
}

// describeSecurityGroups answers by GroupId.N (every id must exist) and
// filters on group-id, group-name and vpc-id.
func (s *Service) describeSecurityGroups(r *region, f protocol.Form, c *protocol.Call) (any, error) {
	ids := f.FlatStrings("GroupId")
	if missing := missingKeys(r.groups, ids); len(missing) > 0 {
		return nil, notFound("InvalidGroup.NotFound", "security group", missing)
	}
	filters := parseFilters(f)
	out := &describeGroupsResult{}
	for _, id := range sortedKeys(r.groups) {
		g := r.groups[id]
		if (len(ids) == 0 || slices.Contains(ids, id)) && filters.match(map[string]string{"group-id": id, "group-name": g.name, "vpc-id": g.vpc}) {
			out.Groups = append(out.Groups, g.xml(c))
		}
	}
	return out, nil
}

func (s *Service) deleteSecurityGroup(r *region, f protocol.Form, c *protocol.Call) (any, error) {
	id := f.String("GroupId")
	if _, ok := r.groups[id]; !ok {
		return nil, notFound("InvalidGroup.NotFound", "security group", []string{id})
	}
	delete(r.groups, id)
	return &createGroupResult{Return: true, GroupId: id}, nil
}

// filters are the Filter.N.Name / Filter.N.Value.M parameters of a
// Describe call: every named filter must match one of its values.
type filters map[string][]string

func parseFilters(f protocol.Form) filters {
	out := filters{}
	for _, m := range f.FlatList("Filter") {
		out[m.String("Name")] = append(out[m.String("Name")], m.FlatStrings("Value")...)
	}
	return out
}

// match reports whether the attributes pass every filter. Values take
// EC2's wildcards: * (any characters) and ? (one character). Unknown
// filter names match nothing, so a test relying on one fails visibly.
func (fs filters) match(attrs map[string]string) bool {
	for name, values := range fs {
		v, ok := attrs[name]
		if !ok || !slices.ContainsFunc(values, func(p string) bool { return wildcard(p, v) }) {
			return false
		}
	}
	return true
}

// wildcard reports whether v matches the filter value p, whose * and ?
// are wildcards.
func wildcard(p, v string) bool {
	if !strings.ContainsAny(p, "*?") {
		return p == v
	}
	re := "^" + strings.NewReplacer(`\*`, ".*", `\?`, ".").Replace(regexp.QuoteMeta(p)) + "$"
	ok, err := regexp.MatchString(re, v)
	return err == nil && ok
}

// notFound is EC2's error for ids that do not exist: "The subnet ID
// 'subnet-1' does not exist" or "The subnet IDs 'subnet-1, subnet-2' do
// not exist".
func notFound(code, noun string, ids []string) error {
	if len(ids) == 1 {
		return protocol.Errorf(code, "The %s '%s' does not exist", noun, ids[0])
	}
	return protocol.Errorf(code, "The %ss '%s' do not exist", noun, strings.Join(ids, ", "))
}

func missingKeys[V any](m map[string]V, ids []string) []string {
	var out []string
	for _, id := range ids {
		if _, ok := m[id]; !ok {
			out = append(out, id)
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// newResourceID returns a new id with the prefix, e.g. "subnet-…".
func (s *Service) newResourceID(prefix string) string {
	s.ids++
	return fmt.Sprintf("%s-%017x", prefix, s.ids)
}
