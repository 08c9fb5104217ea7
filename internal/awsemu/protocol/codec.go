package protocol

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// Codec writes results and errors in one wire protocol.
type Codec interface {
	// WriteResult writes a successful response carrying out.
	WriteResult(w http.ResponseWriter, c *Call, out any)
	// WriteError writes an error response the SDK maps to a typed error.
	WriteError(w http.ResponseWriter, c *Call, e *Error)
}

// encodeOp is the operation schema used to drive the SDK's request
// serializers as plain shape encoders: only its non-nil input matters.
var encodeOp = func() *smithy.OperationSchema {
	id := smithy.ShapeID{Namespace: "jibe.awsemu", Name: "Encode"}
	op := smithy.NewSchema(id, smithy.ShapeTypeOperation, 0)
	in := smithy.NewSchema(smithy.ShapeID{Namespace: "jibe.awsemu", Name: "Shape"}, smithy.ShapeTypeStructure, 0)
	return smithy.NewOperationSchema(op, in, in)
}()

// encodeShape serializes v with the body serializer of an SDK client
// protocol (awsJson or rpcv2Cbor) and returns the bytes.
func encodeShape(ctx context.Context, p smithyhttp.ClientProtocol, v smithy.Serializable) ([]byte, error) {
	req := smithyhttp.NewStackRequest().(*smithyhttp.Request)
	if err := p.SerializeRequest(ctx, encodeOp, v, req); err != nil {
		return nil, fmt.Errorf("encode shape: %w", err)
	}
	s := req.GetStream()
	if s == nil {
		return nil, nil
	}
	b, err := io.ReadAll(s)
	if err != nil {
		return nil, fmt.Errorf("read encoded shape: %w", err)
	}
	return b, nil
}

// DecodeJSON decodes a JSON request body into an SDK input struct. Empty
// bodies decode to the zero value.
func DecodeJSON(body []byte, v any) error {
	if len(body) == 0 {
		return nil
	}
	if err := json.Unmarshal(body, v); err != nil {
		return Errorf("SerializationException", "cannot decode request: %v", err)
	}
	return nil
}

func setRequestID(w http.ResponseWriter, c *Call) {
	w.Header().Set("X-Amzn-Requestid", c.RequestID)
}

// writeJSONBody writes out (a smithy.Serializable, raw bytes or nil) as a
// JSON response body.
func writeJSONBody(ctx context.Context, w http.ResponseWriter, p smithyhttp.ClientProtocol, contentType string, status int, out any) {
	body := []byte("{}")
	switch v := out.(type) {
	case nil:
	case []byte:
		body = v
	case smithy.Serializable:
		b, err := encodeShape(ctx, p, v)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		if len(b) > 0 {
			body = b
		}
	default:
		b, err := json.Marshal(v)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		body = b
	}
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// jsonError is the awsJson / restJson1 error body.
type jsonError struct {
	Type    string `json:"__type"`
	Message string `json:"message"`
}

func writeErrorHeaders(w http.ResponseWriter, e *Error) {
	for k, vs := range e.Header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
}
