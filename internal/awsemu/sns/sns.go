// Package sns emulates the topic registry of Amazon SNS (awsQuery):
// CreateTopic and GetTopicAttributes, enough for Lambda's dead-letter
// topics and their prechecks. Subscriptions and publishing are not
// modelled.
package sns

import (
	"fmt"
	"maps"
	"net/http"
	"regexp"
	"sort"
	"strings"

	"github.com/jibe-dev/jibe/internal/awsemu/protocol"
)

const xmlns = "http://sns.amazonaws.com/doc/2010-03-31/"

// Service is the emulated SNS.
type Service struct {
	codec   *protocol.Query
	regions map[protocol.Scope]*region
}

// New returns an SNS without topics.
func New() *Service {
	return &Service{codec: protocol.NewQuery(xmlns), regions: map[protocol.Scope]*region{}}
}

// Name returns the signing name "sns".
func (s *Service) Name() string { return "sns" }

// Kind returns awsQuery.
func (s *Service) Kind() protocol.Kind { return protocol.KindQuery }

// Codec returns the awsQuery codec.
func (s *Service) Codec() protocol.Codec { return s.codec }

// region is the topics of one account and region, by name.
type region struct {
	scope  protocol.Scope
	topics map[string]*topic
}

// topic is one topic and the attributes it was created with.
type topic struct {
	name  string
	attrs map[string]string
}

func (s *Service) region(scope protocol.Scope) *region {
	r, ok := s.regions[scope]
	if !ok {
		r = &region{scope: scope, topics: map[string]*topic{}}
		s.regions[scope] = r
	}
	return r
}

// Handle serves one SNS call.
func (s *Service) Handle(c *protocol.Call) (any, error) {
	r, f := s.region(c.Scope()), protocol.NewForm(c.Form)
	switch c.Operation {
	case "CreateTopic":
		return r.createTopic(f)
	case "GetTopicAttributes":
		return r.getTopicAttributes(f)
	}
	return nil, protocol.Errorf("InvalidAction", "operation %s is not supported by the emulator", c.Operation)
}

// topicName matches valid names: up to 256 alphanumerics, hyphens and
// underscores, with .fifo at the end of FIFO topics.
var topicName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,256}$`)

func invalidParameter(format string, args ...any) error {
	return protocol.Errorf("InvalidParameter", format, args...)
}

type createTopicResult struct {
	TopicArn string
}

func (r *region) createTopic(f protocol.Form) (any, error) {
	name, attrs := f.String("Name"), f.Map("Attributes")
	base, fifo := strings.CutSuffix(name, ".fifo")
	if !topicName.MatchString(base) || len(name) > 256 {
		return nil, invalidParameter("Invalid parameter: Topic Name")
	}
	if fifo != (attrs["FifoTopic"] == "true") {
		return nil, invalidParameter("Invalid parameter: Fifo Topic names must end with .fifo and must be made up of only uppercase and lowercase ASCII letters, numbers, underscores, and hyphens, and must be between 1 and 256 characters long.")
	}
	if t, ok := r.topics[name]; ok && len(attrs) > 0 && !maps.Equal(t.attrs, attrs) {
		return nil, invalidParameter("Invalid parameter: Attributes Reason: Topic already exists with different attributes")
	}
	if _, ok := r.topics[name]; !ok {
		r.topics[name] = &topic{name: name, attrs: attrs}
	}
	return &createTopicResult{TopicArn: r.arn(name)}, nil
}

// arn returns the ARN of topic name.
func (r *region) arn(name string) string {
	return fmt.Sprintf("arn:aws:sns:%s:%s:%s", r.scope.Region, r.scope.Account, name)
}

type entry struct {
	Key   string `xml:"key"`
	Value string `xml:"value"`
}

type getTopicAttributesResult struct {
	Attributes []entry `xml:"Attributes>entry"`
}

func (r *region) getTopicAttributes(f protocol.Form) (any, error) {
	arn := f.String("TopicArn")
	parts := strings.Split(arn, ":")
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "sns" {
		return nil, invalidParameter("Invalid parameter: TopicArn")
	}
	t, ok := r.topics[parts[5]]
	if !ok || parts[3] != r.scope.Region || parts[4] != r.scope.Account {
		return nil, protocol.StatusErrorf(http.StatusNotFound, "NotFound", "Topic does not exist")
	}
	attrs := map[string]string{"TopicArn": arn, "Owner": r.scope.Account, "DisplayName": "",
		"SubscriptionsConfirmed": "0", "SubscriptionsPending": "0", "SubscriptionsDeleted": "0",
		"Policy": fmt.Sprintf(`{"Version":"2008-10-17","Id":"__default_policy_ID","Statement":[{"Sid":"__default_statement_ID","Effect":"Allow","Principal":{"AWS":"*"},"Action":"SNS:Publish","Resource":"%s","Condition":{"StringEquals":{"AWS:SourceOwner":"%s"}}}]}`, arn, r.scope.Account)}
	maps.Copy(attrs, t.attrs)
	out := &getTopicAttributesResult{}
	for _, k := range sorted(attrs) {
		out.Attributes = append(out.Attributes, entry{Key: k, Value: attrs[k]})
	}
	return out, nil
}

// sorted returns m's keys in order.
func sorted(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
