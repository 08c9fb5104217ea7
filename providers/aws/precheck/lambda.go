package precheck

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"

	"github.com/aws/aws-sdk-go-v2/aws"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/jibe-dev/jibe/providers/aws/awserr"
	"github.com/jibe-dev/jibe/reconcile"
)

// ObjectAPI is the part of S3 Check calls: HeadObject, which reads an
// object's metadata, never its content.
type ObjectAPI interface {
	HeadObject(ctx context.Context, in *s3.HeadObjectInput, optFns ...func(*s3.Options)) (*s3.HeadObjectOutput, error)
}

// LayerAPI is the part of Lambda Check calls: GetLayerVersionByArn,
// which describes a layer version.
type LayerAPI interface {
	GetLayerVersionByArn(ctx context.Context, in *awslambda.GetLayerVersionByArnInput, optFns ...func(*awslambda.Options)) (*awslambda.GetLayerVersionByArnOutput, error)
}

var layerKind = kind{noun: "layer version", perm: "lambda:GetLayerVersion", missing: []string{"ResourceNotFoundException"},
	fix: "publish it or fix the ARN"}

// checkLayers describes each layer version (Lambda has no batch read).
func (c Clients) checkLayers(ctx context.Context, sc Scope, rs *Refs) ([]reconcile.Problem, error) {
	answers, err := eachID(ids(rs.Layers), func(arn string) (answer, error) {
		_, err := c.Layers.GetLayerVersionByArn(ctx, &awslambda.GetLayerVersionByArnInput{Arn: aws.String(arn)})
		return layerKind.answer(err)
	})
	if err != nil {
		return nil, err
	}
	return layerKind.problems(sc, rs.Layers, answers), nil
}

// ObjectRef is an S3 object: a Lambda deployment package.
type ObjectRef struct {
	Ref
	Bucket, Key, Version string
}

// TrustRef is a role that a service must be able to assume (its trust
// policy allows sts:AssumeRole to the service principal), e.g. a Lambda
// execution role and lambda.amazonaws.com. The role itself is also in
// Refs.Roles.
type TrustRef struct {
	Ref
	Service string
}

var objectKind = kind{noun: "S3 object", perm: "s3:GetObject", missing: []string{"NotFound", "NoSuchKey", "NoSuchBucket"},
	fix: "upload it or fix the bucket and key"}

// checkObjects heads each object (S3 has no batch read).
func (c Clients) checkObjects(ctx context.Context, sc Scope, rs *Refs) ([]reconcile.Problem, error) {
	byID := map[string]ObjectRef{}
	var refs []Ref
	for _, o := range rs.Objects {
		byID[o.ID] = o
		refs = append(refs, o.Ref)
	}
	answers, err := eachID(ids(refs), func(id string) (answer, error) {
		o := byID[id]
		in := &s3.HeadObjectInput{Bucket: aws.String(o.Bucket), Key: aws.String(o.Key)}
		if o.Version != "" {
			in.VersionId = aws.String(o.Version)
		}
		_, err := c.S3.HeadObject(ctx, in)
		if awserr.Is(err, "Forbidden") {
			return denied, nil
		}
		return objectKind.answer(err)
	})
	if err != nil {
		return nil, err
	}
	return objectKind.problems(sc, refs, answers), nil
}

// trustProblems returns a problem per role of refs whose trust policy
// (docs, by role ARN, URL-encoded as IAM returns it) does not let its
// service assume it. Roles not in docs (missing or unreadable) are
// reported by checkRoles.
func trustProblems(refs []TrustRef, docs map[string]string) []reconcile.Problem {
	var out []reconcile.Problem
	for _, t := range refs {
		doc, ok := docs[t.ID]
		if !ok || trusts(doc, t.Service) {
			continue
		}
		out = append(out, reconcile.Problem{Field: t.Field, Message: fmt.Sprintf(
			"role %s does not trust %s: add a statement allowing sts:AssumeRole to the service %s in its trust policy", t.ID, t.Service, t.Service)})
	}
	return out
}

// trusts reports whether a trust policy allows service to assume the
// role.
func trusts(doc, service string) bool {
	if d, err := url.QueryUnescape(doc); err == nil {
		doc = d
	}
	var policy struct{ Statement json.RawMessage }
	if json.Unmarshal([]byte(doc), &policy) != nil {
		return false
	}
	for _, st := range trustStatements(policy.Statement) {
		if st.Effect == "Allow" && PolicyHolds(st.Action, "sts:AssumeRole") && PolicyHolds(st.Principal.Service, service) {
			return true
		}
	}
	return false
}

// trustStatement is the part of a trust policy statement trusts reads.
type trustStatement struct {
	Effect    string
	Action    any
	Principal struct{ Service any }
}

// trustStatements decodes a policy's Statement: a list, or one statement.
func trustStatements(raw json.RawMessage) []trustStatement {
	var list []trustStatement
	if json.Unmarshal(raw, &list) == nil {
		return list
	}
	var one trustStatement
	if json.Unmarshal(raw, &one) == nil {
		return []trustStatement{one}
	}
	return nil
}

// PolicyHolds reports whether a value of an IAM policy document (a string
// or a list of strings, as JSON decodes them) is or holds s.
func PolicyHolds(v any, s string) bool {
	switch x := v.(type) {
	case string:
		return x == s
	case []any:
		for _, e := range x {
			if e == s {
				return true
			}
		}
	}
	return false
}
