package iam

import (
	"fmt"
	"regexp"
	"sort"
	"time"

	"github.com/jibe-dev/jibe/internal/awsemu/protocol"
)

type xmlRole struct {
	Path                     string
	RoleName                 string
	RoleId                   string
	Arn                      string
	CreateDate               string
	AssumeRolePolicyDocument string
	Description              string   `xml:",omitempty"`
	MaxSessionDuration       int      `xml:",omitempty"`
	Tags                     []xmlTag `xml:"Tags>member,omitempty"`
}

func (r *role) xml() xmlRole {
	return xmlRole{Path: r.path, RoleName: r.name, RoleId: r.id, Arn: r.arn, CreateDate: isoTime(r.created),
		AssumeRolePolicyDocument: encodeDoc(r.trust), Description: r.description, MaxSessionDuration: r.maxSession, Tags: r.tags}
}

type roleResult struct {
	Role xmlRole
}

// roleName and rolePath are IAM's patterns for role names and paths.
var (
	roleName = regexp.MustCompile(`^[\w+=,.@-]+$`)
	rolePath = regexp.MustCompile(`^(/|/[\x21-\x7E]+/)$`)
)

// checkRoleInput applies CreateRole's constraints: a name of 1 to 64
// characters of roleName, a path of rolePath, MaxSessionDuration within
// 3600..43200.
func checkRoleInput(name string, f protocol.Form) error {
	const field = "1 validation error detected: Value '%v' at '%s' failed to satisfy constraint: "
	invalid := func(v any, at, rule string) error { return protocol.Errorf("ValidationError", field+rule, v, at) }
	switch {
	case len(name) > 64:
		return invalid(name, "roleName", "Member must have length less than or equal to 64")
	case !roleName.MatchString(name):
		return invalid(name, "roleName", `Member must satisfy regular expression pattern: [\w+=,.@-]+`)
	}
	if p := f.String("Path"); p != "" && (len(p) > 512 || !rolePath.MatchString(p)) {
		return protocol.Errorf("ValidationError", "The specified value for path is invalid. It must begin and end with / and contain only alphanumeric characters and/or / characters.")
	}
	if d, ok := f.Int("MaxSessionDuration"); ok && d < 3600 {
		return invalid(d, "maxSessionDuration", "Member must have value greater than or equal to 3600")
	} else if ok && d > 43200 {
		return invalid(d, "maxSessionDuration", "Member must have value less than or equal to 43200")
	}
	return nil
}

func (s *Service) createRole(a *account, f protocol.Form, now time.Time) (any, error) {
	name := f.String("RoleName")
	if err := checkRoleInput(name, f); err != nil {
		return nil, err
	}
	if _, ok := a.roles[name]; ok {
		return nil, protocol.StatusErrorf(409, "EntityAlreadyExists", "Role with name %s already exists.", name)
	}
	trust := f.String("AssumeRolePolicyDocument")
	if err := checkDocument(trust); err != nil {
		return nil, err
	}
	path := orDefault(f.String("Path"), "/")
	r := &role{name: name, id: s.newID("AROA"), path: path, arn: fmt.Sprintf("arn:aws:iam::%s:role%s%s", a.id, path, name),
		trust: trust, description: f.String("Description"), maxSession: 3600, created: now, inline: map[string]string{}}
	if v, ok := f.Int("MaxSessionDuration"); ok {
		r.maxSession = v
	}
	for _, t := range f.List("Tags") {
		r.tags = append(r.tags, xmlTag{Key: t.String("Key"), Value: t.String("Value")})
	}
	a.roles[name] = r
	return &roleResult{Role: r.xml()}, nil
}

func (a *account) role(name string) (*role, error) {
	r, ok := a.roles[name]
	if !ok {
		return nil, noSuchEntity("The role with name %s cannot be found.", name)
	}
	return r, nil
}

func (s *Service) getRole(a *account, f protocol.Form, now time.Time) (any, error) {
	r, err := a.role(f.String("RoleName"))
	if err != nil {
		return nil, err
	}
	return &roleResult{Role: r.xml()}, nil
}

type rolesResult struct {
	Roles       []xmlRole `xml:"Roles>member"`
	IsTruncated bool
	Marker      string `xml:",omitempty"`
}

func (s *Service) listRoles(a *account, f protocol.Form, now time.Time) (any, error) {
	var found []*role
	for _, r := range sortedRoles(a) {
		if pathPrefixMatch(r.path, f.String("PathPrefix")) {
			found = append(found, r)
		}
	}
	max, _ := f.Int("MaxItems")
	start, end, next, err := protocol.Page(len(found), f.String("Marker"), max, 100)
	if err != nil {
		return nil, protocol.Errorf("ValidationError", "invalid Marker")
	}
	out := &rolesResult{IsTruncated: next != "", Marker: next}
	for _, r := range found[start:end] {
		out.Roles = append(out.Roles, r.xml())
	}
	return out, nil
}

func (s *Service) deleteRole(a *account, f protocol.Form, now time.Time) (any, error) {
	r, err := a.role(f.String("RoleName"))
	if err != nil {
		return nil, err
	}
	if len(r.inline) > 0 || len(r.attached) > 0 {
		return nil, protocol.StatusErrorf(409, "DeleteConflict", "Cannot delete entity, must delete policies first.")
	}
	if a.inProfile(r.name) {
		return nil, protocol.StatusErrorf(409, "DeleteConflict", "Cannot delete entity, must remove roles from instance profile first.")
	}
	delete(a.roles, r.name)
	return nil, nil
}

func (s *Service) updateAssumeRolePolicy(a *account, f protocol.Form, now time.Time) (any, error) {
	r, err := a.role(f.String("RoleName"))
	if err != nil {
		return nil, err
	}
	doc := f.String("PolicyDocument")
	if err := checkDocument(doc); err != nil {
		return nil, err
	}
	r.trust = doc
	return nil, nil
}

func (s *Service) putRolePolicy(a *account, f protocol.Form, now time.Time) (any, error) {
	r, err := a.role(f.String("RoleName"))
	if err != nil {
		return nil, err
	}
	doc := f.String("PolicyDocument")
	if err := checkDocument(doc); err != nil {
		return nil, err
	}
	r.inline[f.String("PolicyName")] = doc
	return nil, nil
}

type rolePolicyResult struct {
	RoleName       string
	PolicyName     string
	PolicyDocument string
}

func (s *Service) getRolePolicy(a *account, f protocol.Form, now time.Time) (any, error) {
	r, err := a.role(f.String("RoleName"))
	if err != nil {
		return nil, err
	}
	doc, ok := r.inline[f.String("PolicyName")]
	if !ok {
		return nil, noSuchEntity("The role policy with name %s cannot be found.", f.String("PolicyName"))
	}
	return &rolePolicyResult{RoleName: r.name, PolicyName: f.String("PolicyName"), PolicyDocument: encodeDoc(doc)}, nil
}

func (s *Service) deleteRolePolicy(a *account, f protocol.Form, now time.Time) (any, error) {
	r, err := a.role(f.String("RoleName"))
	if err != nil {
		return nil, err
	}
	if _, ok := r.inline[f.String("PolicyName")]; !ok {
		return nil, noSuchEntity("The role policy with name %s cannot be found.", f.String("PolicyName"))
	}
	delete(r.inline, f.String("PolicyName"))
	return nil, nil
}

type policyNamesResult struct {
	PolicyNames []string `xml:"PolicyNames>member"`
	IsTruncated bool
}

func (s *Service) listRolePolicies(a *account, f protocol.Form, now time.Time) (any, error) {
	r, err := a.role(f.String("RoleName"))
	if err != nil {
		return nil, err
	}
	out := &policyNamesResult{}
	for n := range r.inline {
		out.PolicyNames = append(out.PolicyNames, n)
	}
	sort.Strings(out.PolicyNames)
	return out, nil
}

func (s *Service) attachRolePolicy(a *account, f protocol.Form, now time.Time) (any, error) {
	r, err := a.role(f.String("RoleName"))
	if err != nil {
		return nil, err
	}
	arn := f.String("PolicyArn")
	if _, ok := a.policies[arn]; !ok && !isAWSManaged(arn) {
		return nil, noSuchEntity("Policy %s does not exist or is not attachable.", arn)
	}
	for _, p := range r.attached {
		if p == arn {
			return nil, nil
		}
	}
	r.attached = append(r.attached, arn)
	return nil, nil
}

// isAWSManaged reports whether arn names an AWS managed policy, which the
// emulator treats as always existing.
func isAWSManaged(arn string) bool { return len(arn) > 20 && arn[:20] == "arn:aws:iam::aws:pol" }

func (s *Service) detachRolePolicy(a *account, f protocol.Form, now time.Time) (any, error) {
	r, err := a.role(f.String("RoleName"))
	if err != nil {
		return nil, err
	}
	arn := f.String("PolicyArn")
	for i, p := range r.attached {
		if p == arn {
			r.attached = append(r.attached[:i], r.attached[i+1:]...)
			return nil, nil
		}
	}
	return nil, noSuchEntity("Policy %s was not found.", arn)
}

type attachedPolicy struct {
	PolicyName string
	PolicyArn  string
}

type attachedResult struct {
	AttachedPolicies []attachedPolicy `xml:"AttachedPolicies>member"`
	IsTruncated      bool
}

func (s *Service) listAttachedRolePolicies(a *account, f protocol.Form, now time.Time) (any, error) {
	r, err := a.role(f.String("RoleName"))
	if err != nil {
		return nil, err
	}
	out := &attachedResult{}
	for _, arn := range r.attached {
		out.AttachedPolicies = append(out.AttachedPolicies, attachedPolicy{PolicyName: arn[lastSlash(arn)+1:], PolicyArn: arn})
	}
	return out, nil
}

func lastSlash(s string) int {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '/' {
			return i
		}
	}
	return -1
}

func (s *Service) tagRole(a *account, f protocol.Form, now time.Time) (any, error) {
	r, err := a.role(f.String("RoleName"))
	if err != nil {
		return nil, err
	}
	for _, t := range f.List("Tags") {
		k, replaced := t.String("Key"), false
		for i := range r.tags {
			if r.tags[i].Key == k {
				r.tags[i].Value, replaced = t.String("Value"), true
			}
		}
		if !replaced {
			r.tags = append(r.tags, xmlTag{Key: k, Value: t.String("Value")})
		}
	}
	return nil, nil
}

type tagsResult struct {
	Tags        []xmlTag `xml:"Tags>member"`
	IsTruncated bool
}

func (s *Service) listRoleTags(a *account, f protocol.Form, now time.Time) (any, error) {
	r, err := a.role(f.String("RoleName"))
	if err != nil {
		return nil, err
	}
	return &tagsResult{Tags: r.tags}, nil
}

// RoleExists reports whether the account has a role with the ARN (path
// included), for STS AssumeRole.
func (s *Service) RoleExists(account, arn string) bool {
	a, ok := s.accounts[account]
	if !ok {
		return false
	}
	for _, r := range a.roles {
		if r.arn == arn {
			return true
		}
	}
	return false
}

// MaxSessionDuration returns the MaxSessionDuration, in seconds, of the
// account's role with the ARN (3600 when there is none), for STS
// AssumeRole.
func (s *Service) MaxSessionDuration(account, arn string) int {
	if a, ok := s.accounts[account]; ok {
		for _, r := range a.roles {
			if r.arn == arn {
				return r.maxSession
			}
		}
	}
	return 3600
}
