// Package ec2 emulates the EC2 launch template API (ec2query): templates
// and their numbered versions with $Default/$Latest aliases. EC2 Auto
// Scaling resolves its groups' templates and their images here. Subnets
// and security groups exist as bare identities (no routing, no rules),
// for callers that check references; machine images have a name and a
// state (pending, available, failed).
package ec2

import (
	"fmt"
	"strconv"
	"time"

	"github.com/jibe-dev/jibe/internal/awsemu/protocol"
)

const xmlns = "http://ec2.amazonaws.com/doc/2016-11-15/"

// Service is the emulated EC2 (launch templates, subnets and security
// groups).
type Service struct {
	codec   *protocol.EC2Query
	regions map[protocol.Scope]*region
	ids     int
}

// New returns an empty EC2.
func New() *Service {
	return &Service{codec: protocol.NewEC2Query(xmlns), regions: map[protocol.Scope]*region{}}
}

// Name returns the signing name "ec2".
func (s *Service) Name() string { return "ec2" }

// Kind returns awsQuery (ec2query shares its form encoding).
func (s *Service) Kind() protocol.Kind { return protocol.KindQuery }

// Codec returns the ec2query codec.
func (s *Service) Codec() protocol.Codec { return s.codec }

type region struct {
	scope     protocol.Scope
	templates map[string]*template // by id
	subnets   map[string]*subnet   // by id
	groups    map[string]*securityGroup
	images    map[string]*Image
}

// template is one launch template and its versions.
type template struct {
	id, name, createdBy string
	created             time.Time
	defaultVersion      int
	versions            []*version // versions[n-1] is version n
	tags                []tag
}

type version struct {
	number      int
	description string
	created     time.Time
	data        Data
}

func (s *Service) region(scope protocol.Scope) *region {
	r, ok := s.regions[scope]
	if !ok {
		r = &region{scope: scope, templates: map[string]*template{}, subnets: map[string]*subnet{}, groups: map[string]*securityGroup{}, images: map[string]*Image{}}
		s.regions[scope] = r
	}
	return r
}

type handler func(s *Service, r *region, f protocol.Form, c *protocol.Call) (any, error)

var handlers = map[string]handler{
	"CreateLaunchTemplate":           (*Service).createLaunchTemplate,
	"CreateLaunchTemplateVersion":    (*Service).createLaunchTemplateVersion,
	"DescribeLaunchTemplates":        (*Service).describeLaunchTemplates,
	"DescribeLaunchTemplateVersions": (*Service).describeLaunchTemplateVersions,
	"ModifyLaunchTemplate":           (*Service).modifyLaunchTemplate,
	"DeleteLaunchTemplate":           (*Service).deleteLaunchTemplate,
	"CreateSubnet":                   (*Service).createSubnet,
	"DescribeSubnets":                (*Service).describeSubnets,
	"DeleteSubnet":                   (*Service).deleteSubnet,
	"CreateSecurityGroup":            (*Service).createSecurityGroup,
	"DescribeSecurityGroups":         (*Service).describeSecurityGroups,
	"DeleteSecurityGroup":            (*Service).deleteSecurityGroup,
	"RegisterImage":                  (*Service).registerImage,
	"DescribeImages":                 (*Service).describeImages,
	"DeregisterImage":                (*Service).deregisterImage,
}

// Handle serves one EC2 call.
func (s *Service) Handle(c *protocol.Call) (any, error) {
	h, ok := handlers[c.Operation]
	if !ok {
		return nil, protocol.Errorf("InvalidAction", "operation %s is not supported by the emulator", c.Operation)
	}
	return h(s, s.region(c.Scope()), protocol.NewForm(c.Form), c)
}

// find resolves a template by id or name.
func (r *region) find(id, name string) (*template, error) {
	if id != "" {
		if t, ok := r.templates[id]; ok {
			return t, nil
		}
		return nil, protocol.Errorf("InvalidLaunchTemplateId.NotFound", "The specified launch template, with template ID %s, does not exist.", id)
	}
	for _, t := range r.templates {
		if t.name == name {
			return t, nil
		}
	}
	return nil, protocol.Errorf("InvalidLaunchTemplateName.NotFoundException", "The specified launch template, with template name %s, does not exist.", name)
}

// resolve returns the version "$Latest", "$Default" or a number names.
func (t *template) resolve(v string) (*version, error) {
	n := t.defaultVersion
	switch v {
	case "", "$Default":
	case "$Latest":
		n = len(t.versions)
	default:
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			return nil, protocol.Errorf("InvalidLaunchTemplateId.VersionNotFound", "Could not find launch template version %s", v)
		}
	}
	if n < 1 || n > len(t.versions) || t.versions[n-1] == nil {
		return nil, protocol.Errorf("InvalidLaunchTemplateId.VersionNotFound", "Could not find launch template version %s for template %s", v, t.id)
	}
	return t.versions[n-1], nil
}

// Template is a resolved launch template version, for Auto Scaling.
type Template struct {
	ID, Name string
	Version  int
	Data     Data
}

// Resolve returns the template version an Auto Scaling group launches
// (id or name; version "$Default", "$Latest" or a number).
func (s *Service) Resolve(scope protocol.Scope, id, name, v string) (Template, error) {
	t, err := s.region(scope).find(id, name)
	if err != nil {
		return Template{}, err
	}
	ver, err := t.resolve(v)
	if err != nil {
		return Template{}, err
	}
	return Template{ID: t.id, Name: t.name, Version: ver.number, Data: ver.data}, nil
}

func (s *Service) newID() string {
	s.ids++
	return fmt.Sprintf("lt-%017x", s.ids)
}

func isoTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }
