package iam

import (
	"fmt"
	"time"

	"github.com/jibe-dev/jibe/internal/awsemu/protocol"
)

// instanceProfile is an EC2 instance profile: a container for at most
// one role, which instances launched with it assume.
type instanceProfile struct {
	name, id, path, arn string
	created             time.Time
	roles               []string // role names; at most one, as on AWS
	tags                []xmlTag
}

type xmlProfile struct {
	Path                string
	InstanceProfileName string
	InstanceProfileId   string
	Arn                 string
	CreateDate          string
	Roles               []xmlRole `xml:"Roles>member"`
	Tags                []xmlTag  `xml:"Tags>member,omitempty"`
}

func (p *instanceProfile) xml(a *account) xmlProfile {
	x := xmlProfile{Path: p.path, InstanceProfileName: p.name, InstanceProfileId: p.id, Arn: p.arn, CreateDate: isoTime(p.created), Tags: p.tags}
	for _, name := range p.roles {
		if r, ok := a.roles[name]; ok {
			x.Roles = append(x.Roles, r.xml())
		}
	}
	return x
}

type profileResult struct {
	InstanceProfile xmlProfile
}

func (s *Service) createInstanceProfile(a *account, f protocol.Form, now time.Time) (any, error) {
	name := f.String("InstanceProfileName")
	if name == "" || len(name) > 128 {
		return nil, protocol.Errorf("ValidationError", "InstanceProfileName must be 1 to 128 characters")
	}
	if _, ok := a.profiles[name]; ok {
		return nil, protocol.StatusErrorf(409, "EntityAlreadyExists", "Instance Profile %s already exists.", name)
	}
	path := orDefault(f.String("Path"), "/")
	p := &instanceProfile{name: name, id: s.newID("AIPA"), path: path, created: now,
		arn: fmt.Sprintf("arn:aws:iam::%s:instance-profile%s%s", a.id, path, name)}
	for _, t := range f.List("Tags") {
		p.tags = append(p.tags, xmlTag{Key: t.String("Key"), Value: t.String("Value")})
	}
	a.profiles[name] = p
	return &profileResult{InstanceProfile: p.xml(a)}, nil
}

func (a *account) profile(name string) (*instanceProfile, error) {
	p, ok := a.profiles[name]
	if !ok {
		return nil, noSuchEntity("Instance Profile %s cannot be found.", name)
	}
	return p, nil
}

func (s *Service) getInstanceProfile(a *account, f protocol.Form, now time.Time) (any, error) {
	p, err := a.profile(f.String("InstanceProfileName"))
	if err != nil {
		return nil, err
	}
	return &profileResult{InstanceProfile: p.xml(a)}, nil
}

// addRoleToInstanceProfile puts a role in a profile, which holds one.
func (s *Service) addRoleToInstanceProfile(a *account, f protocol.Form, now time.Time) (any, error) {
	p, err := a.profile(f.String("InstanceProfileName"))
	if err != nil {
		return nil, err
	}
	r, err := a.role(f.String("RoleName"))
	if err != nil {
		return nil, err
	}
	if len(p.roles) > 0 {
		return nil, protocol.StatusErrorf(409, "LimitExceeded", "Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1")
	}
	p.roles = []string{r.name}
	return nil, nil
}

func (s *Service) removeRoleFromInstanceProfile(a *account, f protocol.Form, now time.Time) (any, error) {
	p, err := a.profile(f.String("InstanceProfileName"))
	if err != nil {
		return nil, err
	}
	name := f.String("RoleName")
	if len(p.roles) == 0 || p.roles[0] != name {
		return nil, noSuchEntity("The role with name %s cannot be found in instance profile %s.", name, p.name)
	}
	p.roles = nil
	return nil, nil
}

// deleteInstanceProfile deletes a profile without roles, as IAM does.
func (s *Service) deleteInstanceProfile(a *account, f protocol.Form, now time.Time) (any, error) {
	p, err := a.profile(f.String("InstanceProfileName"))
	if err != nil {
		return nil, err
	}
	if len(p.roles) > 0 {
		return nil, protocol.StatusErrorf(409, "DeleteConflict", "Cannot delete entity, must remove roles from instance profile first.")
	}
	delete(a.profiles, p.name)
	return nil, nil
}

// inProfile reports whether a role is in one of the account's profiles.
func (a *account) inProfile(role string) bool {
	for _, p := range a.profiles {
		for _, r := range p.roles {
			if r == role {
				return true
			}
		}
	}
	return false
}
