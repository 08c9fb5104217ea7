package awsemu

import (
	"fmt"
	"net/http"
	"time"

	"github.com/jibe-dev/jibe/internal/awsemu/protocol"
)

// FaultKind is the kind of failure a Fault injects.
type FaultKind int

// The injectable failures.
const (
	// Throttle answers with the service's throttling error (ThrottlingException
	// 400 for ECS, Throttling 400 for awsQuery services and CloudWatch,
	// TooManyRequestsException 429 for Lambda).
	Throttle FaultKind = iota + 1
	// ServerError answers with the service's 500 error.
	ServerError
	// Latency delays the call by Fault.Delay of real time, then serves it.
	Latency
	// Deny answers with the service's access-denied error, as AWS does
	// when the caller's policies do not allow the operation (AccessDenied
	// 403 for awsQuery services, AuthorizationError 403 for SNS,
	// UnauthorizedOperation 403 for EC2, AccessDeniedException 400 for JSON
	// services, which SQS clients read as AccessDenied).
	Deny
	// Conflict answers with the service's error for a resource that
	// another operation is changing (ResourceConflictException 409 for
	// Lambda, ConcurrentModificationException 409 for Application Auto
	// Scaling, ResourceInUse 400 for the others).
	Conflict
)

// String returns the name of the fault kind.
func (k FaultKind) String() string {
	switch k {
	case Throttle:
		return "Throttle"
	case ServerError:
		return "ServerError"
	case Latency:
		return "Latency"
	case Deny:
		return "Deny"
	case Conflict:
		return "Conflict"
	default:
		return "Unknown"
	}
}

// Fault makes matching calls fail. Empty Service or Operation match any.
type Fault struct {
	// Service is the SigV4 signing name, e.g. "ecs", "elasticloadbalancing",
	// "lambda", "monitoring", "sts".
	Service string
	// Operation is the API operation name, e.g. "UpdateService".
	Operation string
	// Kind is the failure to inject.
	Kind FaultKind
	// Count is how many matching calls fail; zero or less means all of them
	// until ClearFaults.
	Count int
	// Delay is the added latency for Latency faults.
	Delay time.Duration
}

func (f *Fault) matches(service, op string) bool {
	return (f.Service == "" || f.Service == service) && (f.Operation == "" || f.Operation == op)
}

// takeFault returns the first fault matching the call and consumes one use.
func (e *Emulator) takeFault(service, op string) (Fault, bool) {
	for i := range e.faults {
		f := &e.faults[i]
		if !f.matches(service, op) {
			continue
		}
		hit := *f
		if f.Count > 0 {
			f.Count--
			if f.Count == 0 {
				e.faults = append(e.faults[:i], e.faults[i+1:]...)
			}
		}
		return hit, true
	}
	return Fault{}, false
}

// faultError returns the error a service answers for an injected fault
// on operation op.
func faultError(service, op string, k FaultKind) *protocol.Error {
	if k == Deny {
		return denyError(service, op)
	}
	if k == Conflict {
		return conflictError(service)
	}
	if k == Throttle {
		switch service {
		case "ecs", "application-autoscaling", "servicediscovery":
			return protocol.Errorf("ThrottlingException", "Rate exceeded")
		case "lambda":
			e := protocol.StatusErrorf(http.StatusTooManyRequests, "TooManyRequestsException", "Rate exceeded")
			e.Header = http.Header{"Retry-After": {"1"}}
			return e
		default:
			return protocol.Errorf("Throttling", "Rate exceeded")
		}
	}
	switch service {
	case "ecs":
		return protocol.StatusErrorf(http.StatusInternalServerError, "ServerException", "injected server error")
	case "lambda":
		return protocol.StatusErrorf(http.StatusInternalServerError, "ServiceException", "injected server error")
	case "monitoring":
		return protocol.StatusErrorf(http.StatusInternalServerError, "InternalServiceError", "injected server error")
	default:
		return protocol.StatusErrorf(http.StatusInternalServerError, "InternalFailure", "injected server error")
	}
}

// denyError returns the error a service answers when the caller may not
// call op.
func denyError(service, op string) *protocol.Error {
	msg := fmt.Sprintf("User is not authorized to perform: %s:%s", service, op)
	switch service {
	case "iam", "sts", "elasticloadbalancing", "autoscaling", "monitoring":
		return protocol.StatusErrorf(http.StatusForbidden, "AccessDenied", "%s", msg)
	case "ec2":
		return protocol.StatusErrorf(http.StatusForbidden, "UnauthorizedOperation", "You are not authorized to perform this operation. %s", msg)
	case "sns":
		return protocol.StatusErrorf(http.StatusForbidden, "AuthorizationError", "%s", msg)
	case "sqs":
		e := protocol.Errorf("AccessDeniedException", "%s", msg)
		e.Header = http.Header{"X-Amzn-Query-Error": {"AccessDenied;Sender"}}
		return e
	default:
		return protocol.Errorf("AccessDeniedException", "%s", msg)
	}
}

// conflictError returns the error a service answers when another
// operation is changing the resource.
func conflictError(service string) *protocol.Error {
	const msg = "The operation cannot be performed at this time. An update is in progress for the resource (injected)"
	switch service {
	case "lambda":
		return protocol.StatusErrorf(http.StatusConflict, "ResourceConflictException", msg)
	case "application-autoscaling":
		return protocol.StatusErrorf(http.StatusConflict, "ConcurrentModificationException", msg)
	default:
		return protocol.Errorf("ResourceInUse", msg)
	}
}
