package protocol

import (
	"encoding/json"
	"net/http"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/aws/smithy-go/transport/http/protocol/awsjson"
)

// JSON11 is the awsJson1.1 codec (ECS, Application Auto Scaling, Cloud
// Map), and the awsJson1.0 one (SQS) built by NewJSON10.
type JSON11 struct {
	proto smithyhttp.ClientProtocol
	// legacy services encode outputs with MarshalShape.
	legacy, camel bool
	// contentType is application/x-amz-json-1.1 unless NewJSON10 built it.
	contentType string
}

// NewLegacyJSON11 returns an awsJson1.1 codec for services whose SDK uses
// generated deserializers (Application Auto Scaling, Cloud Map): outputs
// are encoded with MarshalShape, with lower-camel member names when camel.
func NewLegacyJSON11(camel bool) *JSON11 {
	return &JSON11{legacy: true, camel: camel}
}

// NewJSON11 returns an awsJson1.1 codec for the service schema of an SDK
// client (e.g. ecs/schemas.AmazonEC2ContainerServiceV20141113).
func NewJSON11(svc *smithy.ServiceSchema) *JSON11 {
	return &JSON11{proto: awsjson.New11(svc)}
}

// NewJSON10 returns an awsJson1.0 codec for the service schema of an SDK
// client (e.g. sqs/schemas.AmazonSQS). Requests are told apart by
// X-Amz-Target as in awsJson1.1; the services of both protocols dispatch
// alike (KindJSON11).
func NewJSON10(svc *smithy.ServiceSchema) *JSON11 {
	return &JSON11{proto: awsjson.New10(svc), contentType: "application/x-amz-json-1.0"}
}

// mediaType is the Content-Type of j's responses.
func (j *JSON11) mediaType() string {
	if j.contentType == "" {
		return "application/x-amz-json-1.1"
	}
	return j.contentType
}

// WriteResult writes out, normally an SDK output struct, as the body.
func (j *JSON11) WriteResult(w http.ResponseWriter, c *Call, out any) {
	setRequestID(w, c)
	if j.legacy && out != nil {
		b, err := MarshalShape(out, j.camel)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		out = b
	}
	writeJSONBody(c.context(), w, j.proto, j.mediaType(), http.StatusOK, out)
}

// WriteError writes {"__type": code, "message": ...}.
func (j *JSON11) WriteError(w http.ResponseWriter, c *Call, e *Error) {
	setRequestID(w, c)
	writeErrorHeaders(w, e)
	b, _ := json.Marshal(jsonError{Type: e.Code, Message: e.Message})
	w.Header().Set("Content-Type", j.mediaType())
	w.WriteHeader(e.HTTPStatus())
	_, _ = w.Write(b)
}

// RESTJSON is the restJson1 codec (Lambda, EKS). Errors carry the
// X-Amzn-ErrorType header.
type RESTJSON struct {
	proto smithyhttp.ClientProtocol
}

// NewRESTJSON returns a restJson1 codec. Bodies are encoded with the SDK's
// JSON shape serializer (restJson1 bodies are encoded like awsJson ones),
// so outputs must not carry HTTP-bound members; handlers with such
// members return a *RESTResponse.
func NewRESTJSON(svc *smithy.ServiceSchema) *RESTJSON {
	return &RESTJSON{proto: awsjson.New11(svc)}
}

// RESTResponse is a restJson1 result with an explicit status, headers and
// body (a smithy.Serializable, raw bytes, or nil).
type RESTResponse struct {
	Status int
	Header http.Header
	Body   any
}

// WriteResult writes out; a *RESTResponse controls status and headers.
func (r *RESTJSON) WriteResult(w http.ResponseWriter, c *Call, out any) {
	setRequestID(w, c)
	status := http.StatusOK
	if rr, ok := out.(*RESTResponse); ok {
		for k, vs := range rr.Header {
			w.Header()[k] = vs
		}
		if rr.Status != 0 {
			status = rr.Status
		}
		out = rr.Body
		if raw, ok := out.([]byte); ok {
			w.WriteHeader(status)
			_, _ = w.Write(raw)
			return
		}
	}
	writeJSONBody(c.context(), w, r.proto, "application/json", status, out)
}

// WriteError writes the error code in X-Amzn-ErrorType and the body.
func (r *RESTJSON) WriteError(w http.ResponseWriter, c *Call, e *Error) {
	setRequestID(w, c)
	writeErrorHeaders(w, e)
	w.Header().Set("X-Amzn-Errortype", e.Code)
	b, _ := json.Marshal(struct {
		Type    string `json:"Type"`
		Message string `json:"message"`
	}{Type: typeOf(e), Message: e.Message})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(e.HTTPStatus())
	_, _ = w.Write(b)
}

func typeOf(e *Error) string {
	if e.HTTPStatus() >= 500 {
		return "Service"
	}
	return "User"
}
