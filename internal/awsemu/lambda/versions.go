package lambda

import (
	"encoding/json"
	"net/http"
	"regexp"
	"sort"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/jibe-dev/jibe/internal/awsemu/protocol"
)

// volatile are the configuration fields that do not make a new version.
var volatile = []string{"FunctionArn", "Version", "RevisionId", "LastModified", "State", "StateReason", "StateReasonCode",
	"LastUpdateStatus", "LastUpdateStatusReason", "LastUpdateStatusReasonCode", "MasterArn"}

// signature identifies the publishable content of a configuration.
func signature(cfg *types.FunctionConfiguration) string {
	var m map[string]json.RawMessage
	_ = protocol.Copy(cfg, &m, volatile...)
	b, _ := json.Marshal(m)
	return string(b)
}

// publish snapshots $LATEST as a new version, or returns the last version
// when nothing changed since it was published.
func (s *Service) publish(fn *function, description string) *types.FunctionConfiguration {
	sig := signature(&fn.cfg)
	for i := len(fn.versions) - 1; i >= 0; i-- {
		if fn.versions[i] != nil {
			if fn.versionSigs[i] == sig {
				return fn.versions[i]
			}
			break
		}
	}
	v := &types.FunctionConfiguration{}
	_ = protocol.Copy(&fn.cfg, v)
	n := strconv.Itoa(len(fn.versions) + 1)
	v.Version, v.FunctionArn = aws.String(n), aws.String(fn.arn+":"+n)
	v.RevisionId = aws.String(s.revision())
	v.State, v.StateReason, v.StateReasonCode = types.StateActive, nil, types.StateReasonCodeIdle
	v.LastUpdateStatus, v.LastUpdateStatusReason, v.LastUpdateStatusReasonCode = types.LastUpdateStatusSuccessful, nil, ""
	if description != "" {
		v.Description = aws.String(description)
	}
	fn.versions = append(fn.versions, v)
	fn.versionSigs = append(fn.versionSigs, sig)
	return v
}

func (s *Service) publishVersion(r *region, c *protocol.Call) (any, error) {
	var in lambda.PublishVersionInput
	if err := protocol.DecodeJSON(c.Body, &in); err != nil {
		return nil, err
	}
	fn, _, err := r.funcFromPath(c)
	if err != nil {
		return nil, err
	}
	if err := checkUpdatable(fn, in.RevisionId); err != nil {
		return nil, err
	}
	if err := validateText(in.Description, nil); err != nil {
		return nil, err
	}
	if in.CodeSha256 != nil && *in.CodeSha256 != aws.ToString(fn.cfg.CodeSha256) {
		return nil, invalid("CodeSHA256 (%s) is different from current CodeSHA256 in $LATEST (%s). Please try again with the CodeSHA256 in $LATEST.", *in.CodeSha256, aws.ToString(fn.cfg.CodeSha256))
	}
	v := s.publish(fn, aws.ToString(in.Description))
	return &protocol.RESTResponse{Status: http.StatusCreated, Body: configOutput(*v)}, nil
}

func (s *Service) listVersions(r *region, c *protocol.Call) (any, error) {
	fn, _, err := r.funcFromPath(c)
	if err != nil {
		return nil, err
	}
	all := []types.FunctionConfiguration{fn.cfg}
	for _, v := range fn.versions {
		if v != nil {
			all = append(all, *v)
		}
	}
	start, end, next, err := pageQuery(c, len(all))
	if err != nil {
		return nil, err
	}
	return &lambda.ListVersionsByFunctionOutput{Versions: all[start:end], NextMarker: optString(next)}, nil
}

// validateAlias checks an alias' primary version and routing: at most one
// additional version, published, different from the primary, with a
// weight in [0, 1).
func (fn *function) validateAlias(version string, rc *types.AliasRoutingConfiguration) error {
	if _, err := fn.resolve(version); err != nil {
		return err
	}
	if rc == nil || len(rc.AdditionalVersionWeights) == 0 {
		return nil
	}
	if len(rc.AdditionalVersionWeights) > 1 {
		return invalid("Number of items in AdditionalVersionWeights cannot be greater than 1")
	}
	if version == latest {
		return invalid("$LATEST is not supported for an alias pointing to more than 1 version")
	}
	for v, w := range rc.AdditionalVersionWeights {
		if v == latest {
			return invalid("$LATEST is not supported for an alias pointing to more than 1 version")
		}
		if v == version {
			return invalid("Primary and additional version cannot be the same: %s", v)
		}
		if _, err := strconv.Atoi(v); err != nil {
			return invalid("Invalid additional version %s", v)
		}
		if _, err := fn.resolve(v); err != nil {
			return invalid("Additional version %s does not exist", v)
		}
		if w < 0 || w >= 1 {
			return invalid("Invalid weight %g for version %s: must be at least 0.0 and less than 1.0", w, v)
		}
	}
	return nil
}

func (s *Service) createAlias(r *region, c *protocol.Call) (any, error) {
	var in lambda.CreateAliasInput
	if err := protocol.DecodeJSON(c.Body, &in); err != nil {
		return nil, err
	}
	fn, _, err := r.funcFromPath(c)
	if err != nil {
		return nil, err
	}
	name := aws.ToString(in.Name)
	if err := checkAliasInput(name, aws.ToString(in.Description)); err != nil {
		return nil, err
	}
	if _, ok := fn.aliases[name]; ok {
		return nil, conflict("Alias already exists: %s:%s", fn.arn, name)
	}
	if err := fn.validateAlias(aws.ToString(in.FunctionVersion), in.RoutingConfig); err != nil {
		return nil, err
	}
	a := &types.AliasConfiguration{AliasArn: aws.String(fn.arn + ":" + name), Name: in.Name, FunctionVersion: in.FunctionVersion,
		Description: in.Description, RoutingConfig: in.RoutingConfig, RevisionId: aws.String(s.revision())}
	if a.Description == nil {
		a.Description = aws.String("")
	}
	fn.aliases[name] = a
	return &protocol.RESTResponse{Status: http.StatusCreated, Body: aliasOutput(a)}, nil
}

func aliasOutput(a *types.AliasConfiguration) *lambda.GetAliasOutput {
	out := &lambda.GetAliasOutput{}
	_ = protocol.Copy(a, out)
	return out
}

func (fn *function) alias(name string) (*types.AliasConfiguration, error) {
	a, ok := fn.aliases[name]
	if !ok {
		return nil, notFound("Alias not found: %s:%s", fn.arn, name)
	}
	return a, nil
}

func (s *Service) getAlias(r *region, c *protocol.Call) (any, error) {
	fn, _, err := r.funcFromPath(c)
	if err != nil {
		return nil, err
	}
	a, err := fn.alias(c.Params["Name"])
	if err != nil {
		return nil, err
	}
	return aliasOutput(a), nil
}

func (s *Service) updateAlias(r *region, c *protocol.Call) (any, error) {
	var in lambda.UpdateAliasInput
	if err := protocol.DecodeJSON(c.Body, &in); err != nil {
		return nil, err
	}
	fn, _, err := r.funcFromPath(c)
	if err != nil {
		return nil, err
	}
	a, err := fn.alias(c.Params["Name"])
	if err != nil {
		return nil, err
	}
	if in.RevisionId != nil && *in.RevisionId != aws.ToString(a.RevisionId) {
		return nil, preconditionFailed()
	}
	if d := aws.ToString(in.Description); len(d) > 256 {
		return nil, constraint(d, "description", "Member must have length less than or equal to 256")
	}
	version, rc := aws.ToString(a.FunctionVersion), a.RoutingConfig
	if in.FunctionVersion != nil {
		version = *in.FunctionVersion
	}
	if in.RoutingConfig != nil {
		rc = in.RoutingConfig
	}
	if err := fn.validateAlias(version, rc); err != nil {
		return nil, err
	}
	a.FunctionVersion, a.RoutingConfig = aws.String(version), rc
	if in.Description != nil {
		a.Description = in.Description
	}
	a.RevisionId = aws.String(s.revision())
	return aliasOutput(a), nil
}

func (s *Service) deleteAlias(r *region, c *protocol.Call) (any, error) {
	fn, _, err := r.funcFromPath(c)
	if err != nil {
		return nil, err
	}
	delete(fn.aliases, c.Params["Name"])
	return &protocol.RESTResponse{Status: http.StatusNoContent, Body: []byte{}}, nil
}

func (s *Service) listAliases(r *region, c *protocol.Call) (any, error) {
	fn, _, err := r.funcFromPath(c)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(fn.aliases))
	for n := range fn.aliases {
		if v := c.HTTP.URL.Query().Get("FunctionVersion"); v == "" || aws.ToString(fn.aliases[n].FunctionVersion) == v {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	start, end, next, err := pageQuery(c, len(names))
	if err != nil {
		return nil, err
	}
	out := &lambda.ListAliasesOutput{NextMarker: optString(next)}
	for _, n := range names[start:end] {
		out.Aliases = append(out.Aliases, *fn.aliases[n])
	}
	return out, nil
}

// aliasNamePattern is CreateAlias's constraint on Name: not all digits,
// letters, digits, hyphens and underscores.
const aliasNamePattern = `(?!^[0-9]+$)([a-zA-Z0-9-_]+)`

var aliasName = regexp.MustCompile(`^[a-zA-Z0-9_-]+$`)

// checkAliasInput applies CreateAlias's constraints on the name (1 to 128
// characters of aliasNamePattern) and the description (at most 256).
func checkAliasInput(name, description string) error {
	_, numeric := strconv.Atoi(name)
	switch {
	case len(name) > 128:
		return constraint(name, "name", "Member must have length less than or equal to 128")
	case numeric == nil || !aliasName.MatchString(name):
		return constraint(name, "name", "Member must satisfy regular expression pattern: "+aliasNamePattern)
	case len(description) > 256:
		return constraint(description, "description", "Member must have length less than or equal to 256")
	}
	return nil
}
