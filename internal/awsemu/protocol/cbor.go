package protocol

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/traits"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/aws/smithy-go/transport/http/protocol/rpcv2"
	"github.com/fxamacker/cbor/v2"
)

// CBOR is the Smithy RPC v2 CBOR codec (CloudWatch).
type CBOR struct {
	proto     smithyhttp.ClientProtocol
	namespace string
	// queryCodes maps error shape names to their awsQuery codes; when set,
	// errors also carry X-Amzn-Query-Error.
	queryCodes map[string]string
}

// NewCBOR returns an rpcv2Cbor codec. Error types are written as full shape
// ids in namespace, e.g. "com.amazonaws.cloudwatch#ResourceNotFound". For
// awsQuery-compatible services pass the SDK's type registry: errors then
// also carry X-Amzn-Query-Error with the shape's awsQuery error code.
func NewCBOR(svc *smithy.ServiceSchema, namespace string, registry *smithy.TypeRegistry) *CBOR {
	c := &CBOR{proto: rpcv2.NewCBOR(svc), namespace: namespace}
	if registry != nil {
		c.queryCodes = map[string]string{}
		for id, e := range registry.Entries {
			if qe, ok := smithy.SchemaTrait[*traits.AWSQueryError](e.Schema); ok {
				c.queryCodes[id[strings.Index(id, "#")+1:]] = qe.ErrorCode
			}
		}
	}
	return c
}

// DecodeCBOR decodes a CBOR request body into an SDK input struct.
func DecodeCBOR(body []byte, v any) error {
	if len(body) == 0 {
		return nil
	}
	if err := cbor.Unmarshal(body, v); err != nil {
		return Errorf("SerializationException", "cannot decode request: %v", err)
	}
	return nil
}

// WriteResult writes out, an SDK output struct, as a CBOR body.
func (c *CBOR) WriteResult(w http.ResponseWriter, call *Call, out any) {
	setRequestID(w, call)
	w.Header().Set("Smithy-Protocol", "rpc-v2-cbor")
	var body []byte
	if s, ok := out.(smithy.Serializable); ok {
		b, err := encodeShape(call.context(), c.proto, s)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		body = b
	}
	if len(body) == 0 {
		body = []byte{0xa0} // empty map
	}
	w.Header().Set("Content-Type", "application/cbor")
	_, _ = w.Write(body)
}

// WriteError writes {"__type": namespace#Code, "message": ...}.
func (c *CBOR) WriteError(w http.ResponseWriter, call *Call, e *Error) {
	setRequestID(w, call)
	writeErrorHeaders(w, e)
	w.Header().Set("Smithy-Protocol", "rpc-v2-cbor")
	if c.queryCodes != nil {
		code, ok := c.queryCodes[e.Code]
		if !ok {
			code = e.Code
		}
		w.Header().Set("X-Amzn-Query-Error", code+";"+e.Fault())
	}
	body, err := cbor.Marshal(map[string]string{"__type": c.namespace + "#" + e.Code, "message": e.Message})
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/cbor")
	w.WriteHeader(e.HTTPStatus())
	_, _ = w.Write(body)
}

// ReadBody reads a request body, gunzipping it when Content-Encoding says
// gzip (the SDK compresses large CloudWatch PutMetricData requests).
func ReadBody(r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, fmt.Errorf("read body: %w", err)
	}
	if r.Header.Get("Content-Encoding") != "gzip" {
		return b, nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("gunzip body: %w", err)
	}
	defer zr.Close()
	out, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("gunzip body: %w", err)
	}
	return out, nil
}
