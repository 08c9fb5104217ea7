package ecs

import (
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/jibe-dev/jibe/internal/awsemu/protocol"
)

// resourceExists reports whether arn names a tagged ECS resource.
func (r *region) resourceExists(arn string) bool {
	_, ok := r.tags[arn]
	return ok
}

func (s *Service) tagResource(c *protocol.Call) (any, error) {
	var in ecs.TagResourceInput
	if err := protocol.DecodeJSON(c.Body, &in); err != nil {
		return nil, err
	}
	r := s.region(c.Scope())
	arn := aws.ToString(in.ResourceArn)
	if !r.resourceExists(arn) {
		return nil, protocol.Errorf("ResourceNotFoundException", "The specified resource could not be found.")
	}
	r.tags[arn] = mergeTags(r.tags[arn], in.Tags)
	return &ecs.TagResourceOutput{}, nil
}

func mergeTags(have, add []types.Tag) []types.Tag {
	out := append([]types.Tag(nil), have...)
	for _, t := range add {
		replaced := false
		for i := range out {
			if aws.ToString(out[i].Key) == aws.ToString(t.Key) {
				out[i].Value, replaced = t.Value, true
			}
		}
		if !replaced {
			out = append(out, t)
		}
	}
	return out
}

func (s *Service) untagResource(c *protocol.Call) (any, error) {
	var in ecs.UntagResourceInput
	if err := protocol.DecodeJSON(c.Body, &in); err != nil {
		return nil, err
	}
	r := s.region(c.Scope())
	arn := aws.ToString(in.ResourceArn)
	if !r.resourceExists(arn) {
		return nil, protocol.Errorf("ResourceNotFoundException", "The specified resource could not be found.")
	}
	var kept []types.Tag
	for _, t := range r.tags[arn] {
		if !hasInclude(in.TagKeys, aws.ToString(t.Key)) {
			kept = append(kept, t)
		}
	}
	r.tags[arn] = kept
	return &ecs.UntagResourceOutput{}, nil
}

func (s *Service) listTagsForResource(c *protocol.Call) (any, error) {
	var in ecs.ListTagsForResourceInput
	if err := protocol.DecodeJSON(c.Body, &in); err != nil {
		return nil, err
	}
	r := s.region(c.Scope())
	arn := aws.ToString(in.ResourceArn)
	if !strings.HasPrefix(arn, "arn:aws:ecs:") || !r.resourceExists(arn) {
		return nil, invalidParameter("The specified resource is not valid.")
	}
	return &ecs.ListTagsForResourceOutput{Tags: r.tags[arn]}, nil
}
