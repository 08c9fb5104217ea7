package elbv2

import (
	"strings"
	"time"

	"github.com/jibe-dev/jibe/internal/awsemu/protocol"
)

// maxTags is the per-resource tag limit.
const maxTags = 50

// setTags replaces a resource's tags with Tags.member.N.Key/Value.
func (r *region) setTags(arn string, members []protocol.Form) {
	r.tags[arn] = map[string]string{}
	r.tagOrder[arn] = nil
	r.addTagList(arn, members)
}

func (r *region) addTagList(arn string, members []protocol.Form) {
	for _, m := range members {
		k := m.String("Key")
		if _, ok := r.tags[arn][k]; !ok {
			r.tagOrder[arn] = append(r.tagOrder[arn], k)
		}
		r.tags[arn][k] = m.String("Value")
	}
}

func (s *Service) addTags(r *region, f protocol.Form, now time.Time) (any, error) {
	arns := f.Strings("ResourceArns")
	for _, arn := range arns {
		if _, ok := r.tags[arn]; !ok {
			return nil, resourceNotFound(arn)
		}
		if len(r.tags[arn])+len(f.List("Tags")) > maxTags {
			return nil, protocol.Errorf("TooManyTags", "Resource '%s' would have more than %d tags", arn, maxTags)
		}
	}
	for _, arn := range arns {
		r.addTagList(arn, f.List("Tags"))
	}
	return nil, nil
}

func (s *Service) removeTags(r *region, f protocol.Form, now time.Time) (any, error) {
	for _, arn := range f.Strings("ResourceArns") {
		if _, ok := r.tags[arn]; !ok {
			return nil, resourceNotFound(arn)
		}
		for _, k := range f.Strings("TagKeys") {
			delete(r.tags[arn], k)
			r.tagOrder[arn] = remove(r.tagOrder[arn], k)
		}
	}
	return nil, nil
}

type xmlTag struct {
	Key   string
	Value string
}

type xmlTagDescription struct {
	ResourceArn string
	Tags        []xmlTag `xml:"Tags>member"`
}

type tagsResult struct {
	TagDescriptions []xmlTagDescription `xml:"TagDescriptions>member"`
}

func (s *Service) describeTags(r *region, f protocol.Form, now time.Time) (any, error) {
	out := &tagsResult{}
	for _, arn := range f.Strings("ResourceArns") {
		tags, ok := r.tags[arn]
		if !ok {
			return nil, resourceNotFound(arn)
		}
		d := xmlTagDescription{ResourceArn: arn}
		for _, k := range r.tagOrder[arn] {
			d.Tags = append(d.Tags, xmlTag{Key: k, Value: tags[k]})
		}
		out.TagDescriptions = append(out.TagDescriptions, d)
	}
	return out, nil
}

// resourceNotFound returns the not-found error of the resource type an
// ARN names, as AddTags and DescribeTags report it.
func resourceNotFound(arn string) error {
	switch {
	case strings.Contains(arn, ":targetgroup/"):
		return tgNotFound(arn)
	case strings.Contains(arn, ":listener-rule/"):
		return protocol.Errorf("RuleNotFound", "One or more rules not found")
	case strings.Contains(arn, ":listener/"):
		return listenerNotFound(arn)
	default:
		return protocol.Errorf("LoadBalancerNotFound", "Load balancers '[%s]' not found", arn)
	}
}
