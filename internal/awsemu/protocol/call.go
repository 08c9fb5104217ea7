package protocol

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Call is one decoded API request, handed to a service handler.
type Call struct {
	// Service is the SigV4 signing name, e.g. "ecs" or "elasticloadbalancing".
	Service string
	// Operation is the API operation, e.g. "CreateService".
	Operation string
	// Account is the twelve-digit account the caller's access key belongs to.
	Account string
	// Region is the region from the SigV4 credential scope.
	Region string
	// AccessKey is the caller's access key id.
	AccessKey string
	// RequestID identifies the request in responses and logs.
	RequestID string
	// Now is the emulated time at which the request is served.
	Now time.Time
	// Body is the (decompressed) request body.
	Body []byte
	// Form holds the parsed awsQuery parameters.
	Form url.Values
	// HTTP is the underlying request, for restJson1 routing and headers.
	HTTP *http.Request
	// Params holds restJson1 path labels, filled by the service's router.
	Params map[string]string
}

// Scope identifies the account and region a piece of state belongs to.
type Scope struct {
	Account string
	Region  string
}

// context returns the request's context (Background for calls built
// without an HTTP request).
func (c *Call) context() context.Context {
	if c.HTTP == nil {
		return context.Background()
	}
	return c.HTTP.Context()
}

// Scope returns the account and region of the call.
func (c *Call) Scope() Scope { return Scope{Account: c.Account, Region: c.Region} }

// Credential is the parsed credential scope of a SigV4 Authorization header.
type Credential struct {
	AccessKey string
	Date      string
	Region    string
	Service   string
}

// ParseAuthorization extracts the credential scope from a SigV4
// Authorization header. It reports false when the header is not SigV4.
// The emulator does not verify signatures.
func ParseAuthorization(h string) (Credential, bool) {
	const prefix = "AWS4-HMAC-SHA256 "
	if !strings.HasPrefix(h, prefix) {
		return Credential{}, false
	}
	for _, part := range strings.Split(h[len(prefix):], ",") {
		part = strings.TrimSpace(part)
		v, ok := strings.CutPrefix(part, "Credential=")
		if !ok {
			continue
		}
		f := strings.Split(v, "/")
		if len(f) != 5 {
			return Credential{}, false
		}
		return Credential{AccessKey: f[0], Date: f[1], Region: f[2], Service: f[3]}, true
	}
	return Credential{}, false
}

// Kind is a wire protocol.
type Kind int

// The wire protocols the emulator speaks.
const (
	KindJSON11 Kind = iota + 1
	KindQuery
	KindRESTJSON
	KindCBOR
	KindRESTXML
)

// String returns the Smithy name of the protocol.
func (k Kind) String() string {
	switch k {
	case KindJSON11:
		return "awsJson1_1"
	case KindQuery:
		return "awsQuery"
	case KindRESTJSON:
		return "restJson1"
	case KindCBOR:
		return "rpcv2Cbor"
	case KindRESTXML:
		return "restXml"
	default:
		return "unknown"
	}
}
