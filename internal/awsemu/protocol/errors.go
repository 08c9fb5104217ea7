package protocol

import (
	"errors"
	"fmt"
	"net/http"
)

// Error is an AWS API error: the code the SDK maps to a typed error, the
// HTTP status and the message.
type Error struct {
	// Status is the HTTP status code, 400 when zero.
	Status int
	// Code is the error code, e.g. "ServiceNotFoundException".
	Code string
	// Message is the human readable message.
	Message string
	// Header holds extra response headers, e.g. Retry-After.
	Header http.Header
}

// Error implements error.
func (e *Error) Error() string { return e.Code + ": " + e.Message }

// HTTPStatus returns the status code, defaulting to 400.
func (e *Error) HTTPStatus() int {
	if e.Status == 0 {
		return http.StatusBadRequest
	}
	return e.Status
}

// Fault returns "Receiver" for server errors and "Sender" otherwise, as
// awsQuery error responses spell it.
func (e *Error) Fault() string {
	if e.HTTPStatus() >= 500 {
		return "Receiver"
	}
	return "Sender"
}

// Errorf returns a client (400) Error with the given code.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// StatusErrorf returns an Error with an explicit HTTP status.
func StatusErrorf(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// AsError converts any error into an *Error; errors that are not API
// errors become 500 InternalFailure.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return StatusErrorf(http.StatusInternalServerError, "InternalFailure", "%v", err)
}
