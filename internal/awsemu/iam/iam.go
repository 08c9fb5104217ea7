// Package iam emulates the role and policy parts of AWS IAM (awsQuery):
// roles with trust policies, inline and attached managed policies, tags,
// and EC2 instance profiles holding a role. IAM is global, so state is partitioned by account only. Policy
// documents are returned URL-encoded, as IAM does.
package iam

import (
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/jibe-dev/jibe/internal/awsemu/protocol"
)

const xmlns = "https://iam.amazonaws.com/doc/2010-05-08/"

// Service is the emulated IAM.
type Service struct {
	codec    *protocol.Query
	accounts map[string]*account
	ids      int
}

// New returns an empty IAM.
func New() *Service {
	return &Service{codec: protocol.NewQuery(xmlns), accounts: map[string]*account{}}
}

// Name returns the signing name "iam".
func (s *Service) Name() string { return "iam" }

// Kind returns awsQuery.
func (s *Service) Kind() protocol.Kind { return protocol.KindQuery }

// Codec returns the awsQuery codec.
func (s *Service) Codec() protocol.Codec { return s.codec }

type account struct {
	id       string
	roles    map[string]*role
	policies map[string]*policy // by ARN
	profiles map[string]*instanceProfile
}

type role struct {
	name, id, path, arn, trust, description string
	maxSession                              int
	created                                 time.Time
	tags                                    []xmlTag
	inline                                  map[string]string
	attached                                []string
}

type policy struct {
	name, id, path, arn, document, description string
	created                                    time.Time
}

type xmlTag struct {
	Key   string
	Value string
}

func (s *Service) account(id string) *account {
	a, ok := s.accounts[id]
	if !ok {
		a = &account{id: id, roles: map[string]*role{}, policies: map[string]*policy{}, profiles: map[string]*instanceProfile{}}
		s.accounts[id] = a
	}
	return a
}

type handler func(s *Service, a *account, f protocol.Form, now time.Time) (any, error)

var handlers = map[string]handler{
	"CreateRole":               (*Service).createRole,
	"GetRole":                  (*Service).getRole,
	"ListRoles":                (*Service).listRoles,
	"DeleteRole":               (*Service).deleteRole,
	"UpdateAssumeRolePolicy":   (*Service).updateAssumeRolePolicy,
	"PutRolePolicy":            (*Service).putRolePolicy,
	"GetRolePolicy":            (*Service).getRolePolicy,
	"DeleteRolePolicy":         (*Service).deleteRolePolicy,
	"ListRolePolicies":         (*Service).listRolePolicies,
	"AttachRolePolicy":         (*Service).attachRolePolicy,
	"DetachRolePolicy":         (*Service).detachRolePolicy,
	"ListAttachedRolePolicies": (*Service).listAttachedRolePolicies,
	"TagRole":                  (*Service).tagRole,
	"ListRoleTags":             (*Service).listRoleTags,
	"CreatePolicy":             (*Service).createPolicy,
	"GetPolicy":                (*Service).getPolicy,
	"DeletePolicy":             (*Service).deletePolicy,

	"CreateInstanceProfile":         (*Service).createInstanceProfile,
	"GetInstanceProfile":            (*Service).getInstanceProfile,
	"AddRoleToInstanceProfile":      (*Service).addRoleToInstanceProfile,
	"RemoveRoleFromInstanceProfile": (*Service).removeRoleFromInstanceProfile,
	"DeleteInstanceProfile":         (*Service).deleteInstanceProfile,
}

// Handle serves one IAM call.
func (s *Service) Handle(c *protocol.Call) (any, error) {
	h, ok := handlers[c.Operation]
	if !ok {
		return nil, protocol.Errorf("InvalidAction", "operation %s is not supported by the emulator", c.Operation)
	}
	return h(s, s.account(c.Account), protocol.NewForm(c.Form), c.Now)
}

func noSuchEntity(format string, args ...any) error {
	return protocol.StatusErrorf(404, "NoSuchEntity", format, args...)
}

func (s *Service) newID(prefix string) string {
	s.ids++
	return fmt.Sprintf("%s%017X", prefix, s.ids)
}

// checkDocument validates a policy document is JSON with a Statement.
func checkDocument(doc string) error {
	var d struct {
		Statement json.RawMessage
	}
	if err := json.Unmarshal([]byte(doc), &d); err != nil || len(d.Statement) == 0 {
		return protocol.Errorf("MalformedPolicyDocument", "This policy contains invalid Json")
	}
	return nil
}

func encodeDoc(doc string) string { return url.QueryEscape(doc) }

func isoTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func sortedRoles(a *account) []*role {
	out := make([]*role, 0, len(a.roles))
	for _, r := range a.roles {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

func pathPrefixMatch(path, prefix string) bool {
	return prefix == "" || strings.HasPrefix(path, prefix)
}
