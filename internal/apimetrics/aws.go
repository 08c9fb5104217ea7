package apimetrics

import (
	"context"
	"errors"
	"sync"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	"github.com/prometheus/client_golang/prometheus"
)

// awsMetrics count the AWS SDK calls of the process.
type awsMetrics struct {
	calls, errors, throttles *prometheus.CounterVec
}

// awsLabels are the labels of every AWS call metric.
var awsLabels = []string{"account", "region", "service", "operation"}

var aws = sync.OnceValue(func() *awsMetrics {
	return &awsMetrics{
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "jibe_aws_api_calls_total",
			Help: "AWS API calls of Jibe's SDK clients (retries included in one call), by account (its name in the agent configuration), region, service, operation and outcome (ok, or the error code).",
		}, []string{"account", "region", "service", "operation", "outcome"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "jibe_aws_api_errors_total",
			Help: "AWS API calls of Jibe's SDK clients that failed after the SDK's retries, by account, region, service, operation and outcome: throttled (the last attempt was throttled) or error (any other failure).",
		}, []string{"account", "region", "service", "operation", "outcome"}),
		throttles: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "jibe_aws_api_throttles_total",
			Help: "Attempts of AWS API calls that AWS throttled (each retry counted), by account, region, service and operation.",
		}, awsLabels),
	}
})

// AWSCalls returns the SDK option that counts every call of a client in
// jibe_aws_api_calls_total (and failed calls in jibe_aws_api_errors_total,
// throttled attempts in jibe_aws_api_throttles_total) under account (the
// account's name in the agent configuration) and region: append it to an
// aws.Config's APIOptions and every client built from that configuration
// counts its calls.
func AWSCalls(account, region string) func(*middleware.Stack) error {
	return func(s *middleware.Stack) error {
		if err := s.Initialize.Add(countCalls(account, region), middleware.After); err != nil {
			return err
		}
		// At the end of Finalize, after the retry middleware: once per attempt.
		return s.Finalize.Add(countThrottles(account, region), middleware.After)
	}
}

// countCalls is the middleware of AWSCalls: one count per call, after
// the SDK's retries, with the outcome of the last attempt.
func countCalls(account, region string) middleware.InitializeMiddleware {
	return middleware.InitializeMiddlewareFunc("jibe/apimetrics", func(ctx context.Context, in middleware.InitializeInput,
		next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
		out, md, err := next.HandleInitialize(ctx, in)
		m, service, op := aws(), awsmiddleware.GetServiceID(ctx), awsmiddleware.GetOperationName(ctx)
		m.calls.WithLabelValues(account, region, service, op, outcome(err)).Inc()
		if err != nil {
			class := "error"
			if throttled(err) {
				class = "throttled"
			}
			m.errors.WithLabelValues(account, region, service, op, class).Inc()
		}
		return out, md, err
	})
}

// countThrottles counts each attempt AWS throttled.
func countThrottles(account, region string) middleware.FinalizeMiddleware {
	return middleware.FinalizeMiddlewareFunc("jibe/apimetrics/throttles", func(ctx context.Context, in middleware.FinalizeInput,
		next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
		out, md, err := next.HandleFinalize(ctx, in)
		if throttled(err) {
			aws().throttles.WithLabelValues(account, region, awsmiddleware.GetServiceID(ctx), awsmiddleware.GetOperationName(ctx)).Inc()
		}
		return out, md, err
	})
}

// throttled reports whether err carries a throttling code, as the SDK's
// retryer tells them.
func throttled(err error) bool {
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) {
		return false
	}
	_, ok := retry.DefaultThrottleErrorCodes[apiErr.ErrorCode()]
	return ok
}

// outcome names a call's outcome: ok, the service's error code, or
// "error" when no response told one (a network error, a cancellation).
func outcome(err error) string {
	var apiErr smithy.APIError
	switch {
	case err == nil:
		return "ok"
	case errors.As(err, &apiErr) && apiErr.ErrorCode() != "":
		return apiErr.ErrorCode()
	}
	return "error"
}
