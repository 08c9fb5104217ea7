// Package secretsmanager emulates the part of AWS Secrets Manager
// (awsJson1.1) that deployments refer to: secrets with a current value,
// found by name, full ARN or partial ARN (without the random suffix), and
// deletion with or without a recovery window.
package secretsmanager

import (
	"crypto/sha256"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/schemas"

	"github.com/jibe-dev/jibe/internal/awsemu/protocol"
)

// Service is the emulated Secrets Manager.
type Service struct {
	codec   *protocol.JSON11
	regions map[protocol.Scope]*region
	ids     int
}

// New returns an empty Secrets Manager.
func New() *Service {
	return &Service{codec: protocol.NewJSON11(schemas.Secretsmanager), regions: map[protocol.Scope]*region{}}
}

// Name returns the signing name "secretsmanager".
func (s *Service) Name() string { return "secretsmanager" }

// Kind returns awsJson1.1.
func (s *Service) Kind() protocol.Kind { return protocol.KindJSON11 }

// Codec returns the awsJson1.1 codec.
func (s *Service) Codec() protocol.Codec { return s.codec }

type region struct {
	secrets map[string]*secret // by ARN
}

// secret is one secret and its current version; older versions are not
// kept.
type secret struct {
	arn, name, description string
	value                  *string
	binary                 []byte
	version                string
	created, changed       time.Time
	// deleted is when a scheduled deletion happens; zero when none.
	deleted time.Time
}

func (s *Service) region(scope protocol.Scope) *region {
	r, ok := s.regions[scope]
	if !ok {
		r = &region{secrets: map[string]*secret{}}
		s.regions[scope] = r
	}
	return r
}

type handler func(s *Service, r *region, c *protocol.Call) (any, error)

var handlers = map[string]handler{
	"CreateSecret":   (*Service).createSecret,
	"DescribeSecret": (*Service).describeSecret,
	"GetSecretValue": (*Service).getSecretValue,
	"DeleteSecret":   (*Service).deleteSecret,
}

// Handle serves one Secrets Manager call.
func (s *Service) Handle(c *protocol.Call) (any, error) {
	h, ok := handlers[c.Operation]
	if !ok {
		return nil, protocol.Errorf("UnknownOperationException", "operation %s is not supported by the emulator", c.Operation)
	}
	r := s.region(c.Scope())
	r.purge(c.Now)
	return h(s, r, c)
}

// purge forgets secrets whose recovery window is over.
func (r *region) purge(now time.Time) {
	for arn, sec := range r.secrets {
		if !sec.deleted.IsZero() && !now.Before(sec.deleted) {
			delete(r.secrets, arn)
		}
	}
}

// errNotFound is Secrets Manager's answer for an unknown secret.
func errNotFound() error {
	return protocol.Errorf("ResourceNotFoundException", "Secrets Manager can't find the specified secret.")
}

// find resolves a secret id: a name, a full ARN, or a partial ARN (the
// full ARN without its "-xxxxxx" suffix).
func (r *region) find(id string) (*secret, error) {
	if sec, ok := r.secrets[id]; ok {
		return sec, nil
	}
	for _, sec := range r.secrets {
		if sec.name == id || sec.partialARN() == id {
			return sec, nil
		}
	}
	return nil, errNotFound()
}

// partialARN is the ARN without its "-xxxxxx" suffix.
func (sec *secret) partialARN() string { return sec.arn[:len(sec.arn)-len("-xxxxxx")] }

// suffix returns the six characters AWS appends to a secret's ARN,
// derived deterministically from a counter.
func (s *Service) suffix(name string) string {
	s.ids++
	sum := sha256.Sum256(fmt.Appendf(nil, "%s/%d", name, s.ids))
	const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	b := make([]byte, 6)
	for i := range b {
		b[i] = letters[int(sum[i])%len(letters)]
	}
	return string(b)
}

// newVersion returns a version id in the shape of a UUID.
func (s *Service) newVersion() string {
	s.ids++
	return fmt.Sprintf("00000000-0000-4000-8000-%012x", s.ids)
}

func (s *Service) createSecret(r *region, c *protocol.Call) (any, error) {
	var in sm.CreateSecretInput
	if err := protocol.DecodeJSON(c.Body, &in); err != nil {
		return nil, err
	}
	name := aws.ToString(in.Name)
	if name == "" || len(name) > 512 {
		return nil, protocol.Errorf("InvalidParameterException", "Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!")
	}
	if in.SecretString != nil && in.SecretBinary != nil {
		return nil, protocol.Errorf("InvalidParameterException", "You can't specify both a binary secret value and a string secret value in the same secret.")
	}
	if old, err := r.find(name); err == nil {
		if !old.deleted.IsZero() {
			return nil, protocol.Errorf("InvalidRequestException", "You can't create this secret because a secret with this name is already scheduled for deletion.")
		}
		return nil, protocol.Errorf("ResourceExistsException", "The operation failed because the secret %s already exists.", name)
	}
	sec := &secret{name: name, description: aws.ToString(in.Description), value: in.SecretString, binary: in.SecretBinary,
		created: c.Now, changed: c.Now,
		arn: fmt.Sprintf("arn:aws:secretsmanager:%s:%s:secret:%s-%s", c.Region, c.Account, name, s.suffix(name))}
	out := &sm.CreateSecretOutput{ARN: aws.String(sec.arn), Name: aws.String(name)}
	if sec.value != nil || sec.binary != nil {
		sec.version = s.newVersion()
		out.VersionId = aws.String(sec.version)
	}
	r.secrets[sec.arn] = sec
	return out, nil
}

func (s *Service) describeSecret(r *region, c *protocol.Call) (any, error) {
	var in sm.DescribeSecretInput
	if err := protocol.DecodeJSON(c.Body, &in); err != nil {
		return nil, err
	}
	sec, err := r.find(aws.ToString(in.SecretId))
	if err != nil {
		return nil, err
	}
	out := &sm.DescribeSecretOutput{ARN: aws.String(sec.arn), Name: aws.String(sec.name), CreatedDate: aws.Time(sec.created),
		LastChangedDate: aws.Time(sec.changed)}
	if sec.description != "" {
		out.Description = aws.String(sec.description)
	}
	if !sec.deleted.IsZero() {
		out.DeletedDate = aws.Time(sec.deleted)
	}
	if sec.version != "" {
		out.VersionIdsToStages = map[string][]string{sec.version: {"AWSCURRENT"}}
	}
	return out, nil
}

func (s *Service) getSecretValue(r *region, c *protocol.Call) (any, error) {
	var in sm.GetSecretValueInput
	if err := protocol.DecodeJSON(c.Body, &in); err != nil {
		return nil, err
	}
	sec, err := r.find(aws.ToString(in.SecretId))
	if err != nil {
		return nil, err
	}
	if !sec.deleted.IsZero() {
		return nil, protocol.Errorf("InvalidRequestException", "You can't perform this operation on the secret because it was marked for deletion.")
	}
	if sec.version == "" || (in.VersionId != nil && *in.VersionId != sec.version) ||
		(in.VersionStage != nil && *in.VersionStage != "AWSCURRENT") {
		return nil, protocol.Errorf("ResourceNotFoundException", "Secrets Manager can't find the specified secret value for staging label: %s", aws.ToString(in.VersionStage))
	}
	return &sm.GetSecretValueOutput{ARN: aws.String(sec.arn), Name: aws.String(sec.name), SecretString: sec.value,
		SecretBinary: sec.binary, VersionId: aws.String(sec.version), VersionStages: []string{"AWSCURRENT"}, CreatedDate: aws.Time(sec.changed)}, nil
}

// deleteSecret schedules the deletion after the recovery window (7 to 30
// days, 30 by default), or deletes at once when forced.
func (s *Service) deleteSecret(r *region, c *protocol.Call) (any, error) {
	var in sm.DeleteSecretInput
	if err := protocol.DecodeJSON(c.Body, &in); err != nil {
		return nil, err
	}
	sec, err := r.find(aws.ToString(in.SecretId))
	if err != nil {
		return nil, err
	}
	force := aws.ToBool(in.ForceDeleteWithoutRecovery)
	days := aws.ToInt64(in.RecoveryWindowInDays)
	if force && days != 0 {
		return nil, protocol.Errorf("InvalidParameterException", "You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.")
	}
	if days == 0 {
		days = 30
	}
	if !force && (days < 7 || days > 30) {
		return nil, protocol.Errorf("InvalidParameterException", "The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).")
	}
	switch {
	case force:
		delete(r.secrets, sec.arn)
		sec.deleted = c.Now
	case sec.deleted.IsZero():
		sec.deleted = c.Now.Add(time.Duration(days) * 24 * time.Hour)
	}
	return &sm.DeleteSecretOutput{ARN: aws.String(sec.arn), Name: aws.String(sec.name), DeletionDate: aws.Time(sec.deleted)}, nil
}
