// Package awserr classifies AWS API errors once for every AWS caller of
// the agent (ECS, checks, accounts, prechecks) and maps each class to the
// engine's retry policy (see reconcile/errors.go):
//
//   - Throttling, Transient and Conflict errors stay transient: retried
//     with backoff. (Throttling and server errors were already retried by
//     the SDK's retryer; a conflict means another operation is in progress.)
//   - AccessDenied, InvalidInput and NotFound errors are stalled: retrying
//     cannot fix them, someone must grant a permission, fix the input or
//     create the resource referred to.
//
// Errors that are not AWS API errors (network, cancelled contexts) and
// codes not in the table are Unknown and stay transient.
package awserr

import (
	"errors"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go"

	"github.com/jibe-dev/jibe/reconcile"
)

// Class is what kind of failure an AWS error is.
type Class int

// The classes of AWS errors.
const (
	// Unknown: not an AWS API error, or a code not in the table.
	Unknown Class = iota
	// Throttling: the caller sent too many requests.
	Throttling
	// Transient: AWS failed on its side; the same request may succeed.
	Transient
	// Conflict: another operation on the resource is in progress; retry later.
	Conflict
	// NotFound: a resource the request refers to does not exist.
	NotFound
	// AccessDenied: the caller's role may not call the operation.
	AccessDenied
	// InvalidInput: the request is wrong.
	InvalidInput
)

// String names the class.
func (c Class) String() string {
	return [...]string{"unknown", "throttling", "transient", "conflict", "not found", "access denied", "invalid input"}[c]
}

// Stalls reports whether retrying cannot fix errors of the class.
func (c Class) Stalls() bool {
	return c == NotFound || c == AccessDenied || c == InvalidInput
}

// codes is the one table of AWS error codes the agent tells apart.
// Throttling and transient codes come from the SDK's retryer's own lists
// (retry.DefaultThrottleErrorCodes, retry.DefaultRetryableErrorCodes).
var codes = map[string]Class{
	// Transient: server-side failures.
	"InternalFailure": Transient, "InternalError": Transient, "InternalServerError": Transient,
	"ServiceUnavailable": Transient, "ServiceUnavailableException": Transient,
	"ServerException": Transient, "ServiceException": Transient,
	"InternalServiceError": Transient, "InternalServiceException": Transient,

	// Conflict: retry later.
	"ConcurrentModificationException": Conflict, "ConflictException": Conflict,
	"ResourceConflictException": Conflict, "ResourceInUseException": Conflict,
	"ResourceContention": Conflict, "ScalingActivityInProgress": Conflict,
	"InstanceRefreshInProgress": Conflict, "UpdateInProgressException": Conflict,
	"PriorRequestNotComplete": Conflict,

	// NotFound: a referenced resource does not exist. Codes a caller
	// expects (a service already deleted) are checked with Is before
	// classifying.
	"ClusterNotFoundException": NotFound, "TargetGroupNotFound": NotFound,
	"ListenerNotFound": NotFound, "RuleNotFound": NotFound,

	// AccessDenied: grant the agent's role the permission.
	"AccessDenied": AccessDenied, "AccessDeniedException": AccessDenied,
	"UnauthorizedOperation": AccessDenied, "AuthorizationError": AccessDenied,

	// InvalidInput: fix the request.
	"InvalidParameterException": InvalidInput, "ClientException": InvalidInput,
	"ValidationError": InvalidInput, "ValidationException": InvalidInput,
	"InvalidParameterValue": InvalidInput, "InvalidParameterValueException": InvalidInput,
	"InvalidParameterCombination": InvalidInput, "InvalidParameterCombinationException": InvalidInput,
	"MissingParameter": InvalidInput, "MissingRequiredParameterException": InvalidInput,
	"PlatformUnknownException":                       InvalidInput,
	"PlatformTaskDefinitionIncompatibilityException": InvalidInput,
}

// Code returns the AWS error code err carries, "" if it carries none.
func Code(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorCode()
	}
	return ""
}

// Is reports whether err carries one of the AWS error codes.
func Is(err error, codes ...string) bool {
	c := Code(err)
	return c != "" && slices.Contains(codes, c)
}

// ClassOf returns err's class.
func ClassOf(err error) Class {
	code := Code(err)
	if code == "" {
		return Unknown
	}
	if _, ok := retry.DefaultThrottleErrorCodes[code]; ok {
		return Throttling
	}
	if _, ok := retry.DefaultRetryableErrorCodes[code]; ok {
		return Transient
	}
	return codes[code]
}

// defaultHints say what to do about the stalling classes.
var defaultHints = map[Class]string{
	AccessDenied: "grant the agent's role the permission",
	InvalidInput: "fix the request's input",
	NotFound:     "create it or fix the reference",
}

// Classify marks err as stalled when its class stalls, adding what to do:
// hints[code] if the caller gives one for err's code, else the class's
// default hint. Other errors are returned unchanged (transient). The AWS
// error stays wrapped.
func Classify(err error, hints map[string]string) error {
	class := ClassOf(err)
	if !class.Stalls() {
		return err
	}
	hint, ok := hints[Code(err)]
	if !ok {
		hint = defaultHints[class]
	}
	return reconcile.Stalled(fmt.Errorf("%w (%s)", err, hint))
}
