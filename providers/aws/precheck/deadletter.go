package precheck

import (
	"context"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/jibe-dev/jibe/reconcile"
)

// QueueAPI is the part of SQS Check calls: the queue's URL, then its
// ARN attribute, which says the agent may read it. No message is read.
type QueueAPI interface {
	GetQueueUrl(ctx context.Context, in *sqs.GetQueueUrlInput, optFns ...func(*sqs.Options)) (*sqs.GetQueueUrlOutput, error)
	GetQueueAttributes(ctx context.Context, in *sqs.GetQueueAttributesInput, optFns ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error)
}

// TopicAPI is the part of SNS Check calls.
type TopicAPI interface {
	GetTopicAttributes(ctx context.Context, in *sns.GetTopicAttributesInput, optFns ...func(*sns.Options)) (*sns.GetTopicAttributesOutput, error)
}

var (
	// queueKind: SQS answers QueueDoesNotExist, which query-compatible
	// clients report with its awsQuery code.
	queueKind = kind{noun: "SQS queue", perm: "sqs:GetQueueUrl and sqs:GetQueueAttributes",
		missing: []string{"AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"}, fix: "create it or fix the ARN"}
	topicKind = kind{noun: "SNS topic", perm: "sns:GetTopicAttributes", missing: []string{"NotFound", "NotFoundException"},
		fix: "create it or fix the ARN"}
)

// AddDeadLetter adds a dead-letter target of sc (an SQS queue or SNS
// topic ARN) to rs under field; targets of other accounts and regions,
// and ARNs of other services, are left out.
func (sc Scope) AddDeadLetter(rs *Refs, field, arn string) {
	a, ok := ParseARN(arn)
	if !ok || a.Account != sc.Account || a.Region != sc.Region {
		return
	}
	switch a.Service {
	case "sqs":
		rs.Queues = append(rs.Queues, Ref{Field: field, ID: arn})
	case "sns":
		rs.Topics = append(rs.Topics, Ref{Field: field, ID: arn})
	}
}

// checkQueues finds each queue's URL by name, then reads its ARN (SQS
// has no batch read).
func (c Clients) checkQueues(ctx context.Context, sc Scope, rs *Refs) ([]reconcile.Problem, error) {
	answers, err := eachID(ids(rs.Queues), func(arn string) (answer, error) {
		name := arn[strings.LastIndex(arn, ":")+1:]
		out, err := c.SQS.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(name), QueueOwnerAWSAccountId: aws.String(sc.Account)})
		if a, err := queueKind.answer(err); err != nil || a != exists {
			return a, err
		}
		_, err = c.SQS.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: out.QueueUrl,
			AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
		return queueKind.answer(err)
	})
	if err != nil {
		return nil, err
	}
	return queueKind.problems(sc, rs.Queues, answers), nil
}

// checkTopics reads each topic's attributes (SNS has no batch read).
func (c Clients) checkTopics(ctx context.Context, sc Scope, rs *Refs) ([]reconcile.Problem, error) {
	answers, err := eachID(ids(rs.Topics), func(arn string) (answer, error) {
		_, err := c.SNS.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: aws.String(arn)})
		return topicKind.answer(err)
	})
	if err != nil {
		return nil, err
	}
	return topicKind.problems(sc, rs.Topics, answers), nil
}
