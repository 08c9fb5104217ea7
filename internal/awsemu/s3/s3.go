// Package s3 serves Amazon S3 through gofakes3, one in-memory backend per
// account, behind the emulator's routing, fault injection and request log.
package s3

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/jibe-dev/jibe/internal/awsemu/protocol"
)

// Clock is the emulated time source objects are stamped with.
type Clock interface {
	Now() time.Time
}

// Service is the emulated S3.
type Service struct {
	clock    Clock
	accounts map[string]http.Handler
}

// New returns an empty S3 whose objects are stamped with clock's time.
func New(clock Clock) *Service {
	return &Service{clock: clock, accounts: map[string]http.Handler{}}
}

// Name returns the signing name "s3".
func (s *Service) Name() string { return "s3" }

// Kind returns restXml.
func (s *Service) Kind() protocol.Kind { return protocol.KindRESTXML }

// Codec returns the S3 error codec (the success path is gofakes3's).
func (s *Service) Codec() protocol.Codec { return errorCodec{} }

// Handle is not used: S3 calls are served raw by ServeRaw.
func (s *Service) Handle(c *protocol.Call) (any, error) {
	return nil, protocol.StatusErrorf(http.StatusNotImplemented, "NotImplemented", "S3 is served raw")
}

// timeSource adapts Clock to gofakes3.TimeSource.
type timeSource struct{ c Clock }

// Now returns the emulated time.
func (t timeSource) Now() time.Time { return t.c.Now() }

// Since returns the emulated time elapsed since at.
func (t timeSource) Since(at time.Time) time.Duration { return t.c.Now().Sub(at) }

func (s *Service) handler(account string) http.Handler {
	h, ok := s.accounts[account]
	if !ok {
		h = gofakes3.New(s3mem.New(s3mem.WithTimeSource(timeSource{s.clock})),
			gofakes3.WithTimeSource(timeSource{s.clock}), gofakes3.WithTimeSkewLimit(0)).Server()
		s.accounts[account] = h
	}
	return h
}

// Route names the S3 operation of a path-style request.
func (s *Service) Route(c *protocol.Call) bool {
	c.Operation = operation(c.HTTP)
	return true
}

// operation infers the S3 operation from method, path and query.
func operation(r *http.Request) string {
	path := strings.Trim(r.URL.Path, "/")
	bucket, key, _ := strings.Cut(path, "/")
	q := r.URL.Query()
	switch {
	case bucket == "":
		return "ListBuckets"
	case key == "":
		return bucketOperation(r.Method, q)
	}
	switch r.Method {
	case http.MethodPut:
		if r.Header.Get("X-Amz-Copy-Source") != "" {
			return "CopyObject"
		}
		return "PutObject"
	case http.MethodGet:
		return "GetObject"
	case http.MethodHead:
		return "HeadObject"
	case http.MethodDelete:
		return "DeleteObject"
	default:
		return "PostObject"
	}
}

func bucketOperation(method string, q map[string][]string) string {
	_, versions := q["versions"]
	_, del := q["delete"]
	switch {
	case method == http.MethodPut:
		return "CreateBucket"
	case method == http.MethodHead:
		return "HeadBucket"
	case method == http.MethodDelete:
		return "DeleteBucket"
	case method == http.MethodPost && del:
		return "DeleteObjects"
	case versions:
		return "ListObjectVersions"
	case len(q["list-type"]) > 0:
		return "ListObjectsV2"
	default:
		return "ListObjects"
	}
}

// ServeRaw serves the call with the account's gofakes3 backend.
func (s *Service) ServeRaw(w http.ResponseWriter, c *protocol.Call) {
	r := c.HTTP
	body, err := decodeChunked(r, c.Body)
	if err != nil {
		errorCodec{}.WriteError(w, c, protocol.Errorf("InvalidRequest", "%v", err))
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	r.Header.Set("Content-Length", strconv.Itoa(len(body)))
	s.handler(c.Account).ServeHTTP(w, r)
}

// decodeChunked strips aws-chunked framing (with or without signatures
// and trailing checksums), which the SDK uses for uploads over plain HTTP.
func decodeChunked(r *http.Request, body []byte) ([]byte, error) {
	sha := r.Header.Get("X-Amz-Content-Sha256")
	if !strings.HasPrefix(sha, "STREAMING-") && !strings.Contains(r.Header.Get("Content-Encoding"), "aws-chunked") {
		return body, nil
	}
	var out bytes.Buffer
	br := bufio.NewReader(bytes.NewReader(body))
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return nil, fmt.Errorf("read chunk header: %w", err)
		}
		sizeHex, _, _ := strings.Cut(strings.TrimSpace(line), ";")
		size, err := strconv.ParseInt(sizeHex, 16, 64)
		if err != nil {
			return nil, fmt.Errorf("bad chunk size %q: %w", sizeHex, err)
		}
		if size == 0 {
			break
		}
		if _, err := io.CopyN(&out, br, size); err != nil {
			return nil, fmt.Errorf("read chunk: %w", err)
		}
		if _, err := br.ReadString('\n'); err != nil {
			return nil, fmt.Errorf("read chunk end: %w", err)
		}
	}
	r.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
	r.Header.Del("X-Amz-Decoded-Content-Length")
	r.Header.Del("X-Amz-Trailer")
	enc := strings.TrimSpace(strings.ReplaceAll(r.Header.Get("Content-Encoding"), "aws-chunked", ""))
	if enc = strings.Trim(enc, ", "); enc == "" {
		r.Header.Del("Content-Encoding")
	} else {
		r.Header.Set("Content-Encoding", enc)
	}
	return out.Bytes(), nil
}

// errorCodec writes S3's <Error> documents for injected faults.
type errorCodec struct{}

// WriteResult is unused: successful S3 calls are written by gofakes3.
func (errorCodec) WriteResult(w http.ResponseWriter, c *protocol.Call, out any) {
	w.WriteHeader(http.StatusOK)
}

// WriteError writes an S3 <Error>; throttling becomes 503 SlowDown.
func (errorCodec) WriteError(w http.ResponseWriter, c *protocol.Call, e *protocol.Error) {
	code := e.Code
	if code == "Throttling" {
		code, e.Status = "SlowDown", http.StatusServiceUnavailable
	}
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("X-Amz-Request-Id", c.RequestID)
	w.WriteHeader(e.HTTPStatus())
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>%s</Message><RequestId>%s</RequestId></Error>`, code, e.Message, c.RequestID)
}
