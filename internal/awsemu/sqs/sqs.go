// Package sqs emulates the queue registry of Amazon SQS (awsJson1.0, with
// the awsQuery-compatible error codes the SDK reads from
// X-Amzn-Query-Error): CreateQueue, GetQueueUrl and GetQueueAttributes,
// enough for Lambda's dead-letter queues and their prechecks. Messages are
// not modelled.
package sqs

import (
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/schemas"

	"github.com/jibe-dev/jibe/internal/awsemu/protocol"
)

// Service is the emulated SQS.
type Service struct {
	codec   *protocol.JSON11
	regions map[protocol.Scope]*region
}

// New returns an SQS without queues.
func New() *Service {
	return &Service{codec: protocol.NewJSON10(schemas.AmazonSQS), regions: map[protocol.Scope]*region{}}
}

// Name returns the signing name "sqs".
func (s *Service) Name() string { return "sqs" }

// Kind returns awsJson1.1, whose X-Amz-Target dispatch awsJson1.0 shares.
func (s *Service) Kind() protocol.Kind { return protocol.KindJSON11 }

// Codec returns the awsJson1.0 codec.
func (s *Service) Codec() protocol.Codec { return s.codec }

// region is the queues of one account and region, by name.
type region struct {
	scope  protocol.Scope
	queues map[string]*queue
}

// queue is one queue: its attributes as set, and when it was created.
type queue struct {
	name    string
	attrs   map[string]string
	tags    map[string]string
	created time.Time
}

func (s *Service) region(scope protocol.Scope) *region {
	r, ok := s.regions[scope]
	if !ok {
		r = &region{scope: scope, queues: map[string]*queue{}}
		s.regions[scope] = r
	}
	return r
}

type handler func(r *region, c *protocol.Call) (any, error)

var handlers = map[string]handler{
	"CreateQueue":        (*region).createQueue,
	"GetQueueUrl":        (*region).getQueueURL,
	"GetQueueAttributes": (*region).getQueueAttributes,
}

// Handle serves one SQS call.
func (s *Service) Handle(c *protocol.Call) (any, error) {
	h, ok := handlers[c.Operation]
	if !ok {
		return nil, queryError("UnsupportedOperation", "AWS.SimpleQueueService.UnsupportedOperation", "operation %s is not supported by the emulator", c.Operation)
	}
	return h(s.region(c.Scope()), c)
}

// queryError is an SQS error: the awsJson code, and the awsQuery code
// that query-compatible clients report instead (X-Amzn-Query-Error).
func queryError(code, queryCode, format string, args ...any) *protocol.Error {
	e := protocol.Errorf(code, format, args...)
	e.Header = http.Header{"X-Amzn-Query-Error": {queryCode + ";Sender"}}
	return e
}

// noQueue is SQS's answer about a queue that does not exist.
func noQueue() error {
	return queryError("QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue", "The specified queue does not exist.")
}

// queueName matches valid names: up to 80 alphanumerics, hyphens and
// underscores, with .fifo at the end of FIFO queues.
var queueName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,80}$`)

// validName checks a queue name and its FIFO suffix against its
// attributes.
func validName(name string, attrs map[string]string) error {
	base, fifo := strings.CutSuffix(name, ".fifo")
	if !queueName.MatchString(base) || len(name) > 80 {
		return queryError("InvalidParameterValue", "InvalidParameterValue",
			"Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length")
	}
	if fifo != (attrs["FifoQueue"] == "true") {
		return queryError("InvalidParameterValue", "InvalidParameterValue",
			"The name of a FIFO queue can only include alphanumeric characters, hyphens, or underscores, must end with .fifo suffix and be 1 to 80 in length.")
	}
	return nil
}

func (r *region) createQueue(c *protocol.Call) (any, error) {
	var in sqs.CreateQueueInput
	if err := protocol.DecodeJSON(c.Body, &in); err != nil {
		return nil, err
	}
	name := aws.ToString(in.QueueName)
	if err := validName(name, in.Attributes); err != nil {
		return nil, err
	}
	if q, ok := r.queues[name]; ok {
		if !maps.Equal(q.attrs, in.Attributes) && len(in.Attributes) > 0 {
			return nil, queryError("QueueNameExists", "QueueAlreadyExists", "A queue already exists with the same name and a different value for attribute(s)")
		}
		return &sqs.CreateQueueOutput{QueueUrl: aws.String(r.url(name))}, nil
	}
	q := &queue{name: name, attrs: maps.Clone(in.Attributes), tags: in.Tags, created: c.Now}
	if q.attrs == nil {
		q.attrs = map[string]string{}
	}
	r.queues[name] = q
	return &sqs.CreateQueueOutput{QueueUrl: aws.String(r.url(name))}, nil
}

// url returns the URL of queue name.
func (r *region) url(name string) string {
	return fmt.Sprintf("https://sqs.%s.amazonaws.com/%s/%s", r.scope.Region, r.scope.Account, name)
}

func (r *region) getQueueURL(c *protocol.Call) (any, error) {
	var in sqs.GetQueueUrlInput
	if err := protocol.DecodeJSON(c.Body, &in); err != nil {
		return nil, err
	}
	if owner := aws.ToString(in.QueueOwnerAWSAccountId); owner != "" && owner != r.scope.Account {
		return nil, noQueue()
	}
	if _, ok := r.queues[aws.ToString(in.QueueName)]; !ok {
		return nil, noQueue()
	}
	return &sqs.GetQueueUrlOutput{QueueUrl: aws.String(r.url(aws.ToString(in.QueueName)))}, nil
}

// byURL returns the queue a URL names: its last two path segments are the
// account and the name.
func (r *region) byURL(raw string) (*queue, error) {
	u, err := url.Parse(raw)
	if err != nil || raw == "" {
		return nil, queryError("InvalidAddress", "InvalidAddress", "The address %s is not valid for this endpoint.", raw)
	}
	parts := strings.Split(strings.Trim(u.Path, "/"), "/")
	if len(parts) != 2 || parts[0] != r.scope.Account {
		return nil, noQueue()
	}
	q, ok := r.queues[parts[1]]
	if !ok {
		return nil, noQueue()
	}
	return q, nil
}

func (r *region) getQueueAttributes(c *protocol.Call) (any, error) {
	var in sqs.GetQueueAttributesInput
	if err := protocol.DecodeJSON(c.Body, &in); err != nil {
		return nil, err
	}
	q, err := r.byURL(aws.ToString(in.QueueUrl))
	if err != nil {
		return nil, err
	}
	all := r.attributes(q)
	out := map[string]string{}
	for _, n := range in.AttributeNames {
		if n == "All" {
			return &sqs.GetQueueAttributesOutput{Attributes: all}, nil
		}
		v, ok := all[string(n)]
		if !ok && !known[string(n)] {
			return nil, queryError("InvalidAttributeName", "InvalidAttributeName", "Unknown Attribute %s.", n)
		}
		if ok {
			out[string(n)] = v
		}
	}
	return &sqs.GetQueueAttributesOutput{Attributes: out}, nil
}

// known are the attribute names SQS accepts that a queue may not have.
var known = map[string]bool{"Policy": true, "RedrivePolicy": true, "RedriveAllowPolicy": true, "KmsMasterKeyId": true,
	"KmsDataKeyReusePeriodSeconds": true, "FifoQueue": true, "ContentBasedDeduplication": true, "DeduplicationScope": true,
	"FifoThroughputLimit": true}

// attributes returns every attribute of q: SQS's defaults, those set,
// and those SQS computes.
func (r *region) attributes(q *queue) map[string]string {
	created := strconv.FormatInt(q.created.Unix(), 10)
	out := map[string]string{"VisibilityTimeout": "30", "MaximumMessageSize": "1048576", "MessageRetentionPeriod": "345600",
		"DelaySeconds": "0", "ReceiveMessageWaitTimeSeconds": "0", "SqsManagedSseEnabled": "true",
		"ApproximateNumberOfMessages": "0", "ApproximateNumberOfMessagesNotVisible": "0", "ApproximateNumberOfMessagesDelayed": "0",
		"CreatedTimestamp": created, "LastModifiedTimestamp": created,
		"QueueArn": fmt.Sprintf("arn:aws:sqs:%s:%s:%s", r.scope.Region, r.scope.Account, q.name)}
	maps.Copy(out, q.attrs)
	return out
}
