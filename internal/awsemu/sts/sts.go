// Package sts emulates AWS Security Token Service (awsQuery):
// GetCallerIdentity and AssumeRole. Assumed-role credentials are bound to
// the role's account, so later calls signed with them land in that
// account's state.
package sts

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/jibe-dev/jibe/internal/awsemu/protocol"
)

const xmlns = "https://sts.amazonaws.com/doc/2011-06-15/"

// Identity is who an access key authenticates as.
type Identity struct {
	Account string
	Arn     string
	UserID  string
}

// Keyring maps access key ids to identities. It is not safe for concurrent
// use; the emulator guards it with its state lock.
type Keyring struct {
	defaultAccount string
	keys           map[string]Identity
	issued         int
}

// NewKeyring returns a Keyring with static keys (access key → account).
// Unknown keys belong to defaultAccount.
func NewKeyring(defaultAccount string, static map[string]string) *Keyring {
	k := &Keyring{defaultAccount: defaultAccount, keys: map[string]Identity{}}
	for key, acct := range static {
		k.keys[key] = rootIdentity(acct)
	}
	return k
}

func rootIdentity(account string) Identity {
	return Identity{Account: account, Arn: "arn:aws:iam::" + account + ":root", UserID: account}
}

// Identity returns the identity of an access key.
func (k *Keyring) Identity(accessKey string) Identity {
	if id, ok := k.keys[accessKey]; ok {
		return id
	}
	return rootIdentity(k.defaultAccount)
}

// Account returns the account an access key belongs to.
func (k *Keyring) Account(accessKey string) string { return k.Identity(accessKey).Account }

// issue creates a temporary access key bound to id.
func (k *Keyring) issue(id Identity) string {
	k.issued++
	key := fmt.Sprintf("ASIAEMU%013d", k.issued)
	k.keys[key] = id
	return key
}

// Service is the emulated STS.
type Service struct {
	keys  *Keyring
	roles Roles
	codec *protocol.Query
}

// Roles is the part of IAM that AssumeRole checks.
type Roles interface {
	// RoleExists reports whether the account has a role with the ARN.
	RoleExists(account, arn string) bool
	// MaxSessionDuration returns the role's MaxSessionDuration in seconds.
	MaxSessionDuration(account, arn string) int
}

// New returns an STS service issuing keys into keys.
//
// With roles, AssumeRole of a role that does not exist is denied, as in
// AWS; nil roles let every well-formed role ARN be assumed.
func New(keys *Keyring, roles Roles) *Service {
	return &Service{keys: keys, roles: roles, codec: protocol.NewQuery(xmlns)}
}

// Name returns the signing name "sts".
func (s *Service) Name() string { return "sts" }

// Kind returns awsQuery.
func (s *Service) Kind() protocol.Kind { return protocol.KindQuery }

// Codec returns the awsQuery codec.
func (s *Service) Codec() protocol.Codec { return s.codec }

// Handle serves one STS call.
func (s *Service) Handle(c *protocol.Call) (any, error) {
	switch c.Operation {
	case "GetCallerIdentity":
		return s.getCallerIdentity(c), nil
	case "AssumeRole":
		return s.assumeRole(c)
	default:
		return nil, protocol.Errorf("InvalidAction", "operation %s is not supported by the emulator", c.Operation)
	}
}

type callerIdentity struct {
	Arn     string
	UserId  string
	Account string
}

func (s *Service) getCallerIdentity(c *protocol.Call) *callerIdentity {
	id := s.keys.Identity(c.AccessKey)
	return &callerIdentity{Arn: id.Arn, UserId: id.UserID, Account: id.Account}
}

type credentials struct {
	AccessKeyId     string
	SecretAccessKey string
	SessionToken    string
	Expiration      string
}

type assumedRoleUser struct {
	AssumedRoleId string
	Arn           string
}

type assumeRoleResult struct {
	Credentials     credentials
	AssumedRoleUser assumedRoleUser
}

func (s *Service) assumeRole(c *protocol.Call) (*assumeRoleResult, error) {
	f := protocol.NewForm(c.Form)
	roleArn, session := f.String("RoleArn"), f.String("RoleSessionName")
	account, role, err := parseRoleArn(roleArn)
	if err != nil {
		return nil, err
	}
	if err := checkSessionName(session); err != nil {
		return nil, err
	}
	if s.roles != nil && !s.roles.RoleExists(account, roleArn) {
		return nil, protocol.StatusErrorf(http.StatusForbidden, "AccessDenied", "User: %s is not authorized to perform: sts:AssumeRole on resource: %s",
			s.keys.Identity(c.AccessKey).Arn, roleArn)
	}
	duration, err := s.duration(f, account, roleArn)
	if err != nil {
		return nil, err
	}
	roleID := "AROAEMU" + strings.ToUpper(role)
	id := Identity{
		Account: account,
		Arn:     fmt.Sprintf("arn:aws:sts::%s:assumed-role/%s/%s", account, role, session),
		UserID:  roleID + ":" + session,
	}
	key := s.keys.issue(id)
	return &assumeRoleResult{
		Credentials: credentials{
			AccessKeyId: key, SecretAccessKey: "emulated-secret-" + key, SessionToken: "emulated-session-" + key,
			Expiration: c.Now.Add(duration).UTC().Format(time.RFC3339),
		},
		AssumedRoleUser: assumedRoleUser{AssumedRoleId: id.UserID, Arn: id.Arn},
	}, nil
}

// duration reads DurationSeconds (1 h by default), refusing values
// outside 900..43200 and above the role's MaxSessionDuration as AWS does.
func (s *Service) duration(f protocol.Form, account, roleArn string) (time.Duration, error) {
	d, ok := f.Int("DurationSeconds")
	const field = "1 validation error detected: Value '%d' at 'durationSeconds' failed to satisfy constraint: "
	switch {
	case !ok:
		return time.Hour, nil
	case d < 900:
		return 0, protocol.Errorf("ValidationError", field+"Member must have value greater than or equal to 900", d)
	case d > 43200:
		return 0, protocol.Errorf("ValidationError", field+"Member must have value less than or equal to 43200", d)
	case s.roles != nil && d > s.roles.MaxSessionDuration(account, roleArn):
		return 0, protocol.Errorf("ValidationError", "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
	}
	return time.Duration(d) * time.Second, nil
}

// sessionName is the pattern of RoleSessionName.
var sessionName = regexp.MustCompile(`^[\w+=,.@-]*$`)

// checkSessionName validates RoleSessionName as STS does: 2 to 64
// characters of [\w+=,.@-].
func checkSessionName(name string) error {
	const prefix = "1 validation error detected: Value '%s' at 'roleSessionName' failed to satisfy constraint: "
	switch {
	case name == "":
		return protocol.Errorf("ValidationError", "1 validation error detected: Value null at 'roleSessionName' failed to satisfy constraint: Member must not be null")
	case len(name) < 2:
		return protocol.Errorf("ValidationError", prefix+"Member must have length greater than or equal to 2", name)
	case len(name) > 64:
		return protocol.Errorf("ValidationError", prefix+"Member must have length less than or equal to 64", name)
	case !sessionName.MatchString(name):
		return protocol.Errorf("ValidationError", prefix+"Member must satisfy regular expression pattern: [\\w+=,.@-]*", name)
	}
	return nil
}

// parseRoleArn splits arn:aws:iam::ACCOUNT:role/path/NAME.
func parseRoleArn(arn string) (account, role string, err error) {
	f := strings.SplitN(arn, ":", 6)
	if len(f) != 6 || f[0] != "arn" || f[2] != "iam" || len(f[4]) != 12 || !strings.HasPrefix(f[5], "role/") {
		return "", "", protocol.Errorf("ValidationError", "%q is not a valid role ARN", arn)
	}
	parts := strings.Split(f[5], "/")
	return f[4], parts[len(parts)-1], nil
}
