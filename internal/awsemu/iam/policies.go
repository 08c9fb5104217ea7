package iam

import (
	"fmt"
	"time"

	"github.com/jibe-dev/jibe/internal/awsemu/protocol"
)

type xmlPolicy struct {
	PolicyName       string
	PolicyId         string
	Arn              string
	Path             string
	DefaultVersionId string
	AttachmentCount  int
	IsAttachable     bool
	Description      string `xml:",omitempty"`
	CreateDate       string
	UpdateDate       string
}

type policyResult struct {
	Policy xmlPolicy
}

func (a *account) xmlPolicy(p *policy) xmlPolicy {
	n := 0
	for _, r := range a.roles {
		for _, arn := range r.attached {
			if arn == p.arn {
				n++
			}
		}
	}
	return xmlPolicy{PolicyName: p.name, PolicyId: p.id, Arn: p.arn, Path: p.path, DefaultVersionId: "v1", AttachmentCount: n,
		IsAttachable: true, Description: p.description, CreateDate: isoTime(p.created), UpdateDate: isoTime(p.created)}
}

func (s *Service) createPolicy(a *account, f protocol.Form, now time.Time) (any, error) {
	name, path := f.String("PolicyName"), orDefault(f.String("Path"), "/")
	arn := fmt.Sprintf("arn:aws:iam::%s:policy%s%s", a.id, path, name)
	if _, ok := a.policies[arn]; ok {
		return nil, protocol.StatusErrorf(409, "EntityAlreadyExists", "A policy called %s already exists. Duplicate names are not allowed.", name)
	}
	doc := f.String("PolicyDocument")
	if err := checkDocument(doc); err != nil {
		return nil, err
	}
	p := &policy{name: name, id: s.newID("ANPA"), path: path, arn: arn, document: doc, description: f.String("Description"), created: now}
	a.policies[arn] = p
	return &policyResult{Policy: a.xmlPolicy(p)}, nil
}

func (s *Service) getPolicy(a *account, f protocol.Form, now time.Time) (any, error) {
	p, ok := a.policies[f.String("PolicyArn")]
	if !ok {
		return nil, noSuchEntity("Policy %s was not found.", f.String("PolicyArn"))
	}
	return &policyResult{Policy: a.xmlPolicy(p)}, nil
}

func (s *Service) deletePolicy(a *account, f protocol.Form, now time.Time) (any, error) {
	p, ok := a.policies[f.String("PolicyArn")]
	if !ok {
		return nil, noSuchEntity("Policy %s was not found.", f.String("PolicyArn"))
	}
	if a.xmlPolicy(p).AttachmentCount > 0 {
		return nil, protocol.StatusErrorf(409, "DeleteConflict", "Cannot delete a policy attached to entities.")
	}
	delete(a.policies, p.arn)
	return nil, nil
}
