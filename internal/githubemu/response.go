package githubemu

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// Documentation URLs GitHub puts in error bodies. go-github recognises a
// secondary rate limit by the suffix of docSecondaryLimit.
const (
	docREST           = "https://docs.github.com/rest"
	docRateLimit      = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"
	docSecondaryLimit = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"
	docStatuses       = "https://docs.github.com/rest/commits/statuses#create-a-commit-status"
	docCreateComment  = "https://docs.github.com/rest/issues/comments#create-an-issue-comment"
	docEditComment    = "https://docs.github.com/rest/issues/comments#update-an-issue-comment"
)

// apiError is GitHub's error body.
type apiError struct {
	Message          string       `json:"message"`
	Errors           []fieldError `json:"errors,omitempty"`
	DocumentationURL string       `json:"documentation_url"`
}

// fieldError is one entry of a "Validation Failed" error.
type fieldError struct {
	Resource string `json:"resource"`
	Code     string `json:"code"`
	Field    string `json:"field,omitempty"`
	Message  string `json:"message,omitempty"`
}

// recorder buffers a response so the middleware can add an ETag, answer
// 304 and set rate-limit headers after the handler ran.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func newRecorder() *recorder {
	return &recorder{header: http.Header{}, status: http.StatusOK}
}

func (r *recorder) Header() http.Header         { return r.header }
func (r *recorder) Write(b []byte) (int, error) { return r.body.Write(b) }
func (r *recorder) WriteHeader(code int)        { r.status = code }

// etag returns a weak entity tag of the body, as GitHub sends on GETs.
func (r *recorder) etag() string {
	sum := sha256.Sum256(r.body.Bytes())
	return `W/"` + hex.EncodeToString(sum[:16]) + `"`
}

// notModified turns the response into a bodiless 304.
func (r *recorder) notModified() {
	r.status = http.StatusNotModified
	r.body.Reset()
	r.header.Del("Content-Type")
	r.header.Del("Link")
}

// flush copies the buffered response to w.
func (r *recorder) flush(w http.ResponseWriter) {
	for k, v := range r.header {
		w.Header()[k] = v
	}
	w.WriteHeader(r.status)
	w.Write(r.body.Bytes())
}

// matchesETag reports whether an If-None-Match header value lists etag.
// Weak and strong forms of the same tag match, as in GitHub.
func matchesETag(ifNoneMatch, etag string) bool {
	want := strings.TrimPrefix(etag, "W/")
	for _, tag := range strings.Split(ifNoneMatch, ",") {
		tag = strings.TrimPrefix(strings.TrimSpace(tag), "W/")
		if tag == want || tag == "*" {
			return true
		}
	}
	return false
}

// writeJSON writes v as the JSON response body with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}

// writeError writes GitHub's error body.
func writeError(w http.ResponseWriter, status int, message, doc string) {
	writeJSON(w, status, apiError{Message: message, DocumentationURL: doc})
}

// writeNotFound writes GitHub's 404 body.
func writeNotFound(w http.ResponseWriter) {
	writeError(w, http.StatusNotFound, "Not Found", docREST)
}

// writeValidation writes a 422 "Validation Failed" body.
func writeValidation(w http.ResponseWriter, doc string, errs ...fieldError) {
	writeJSON(w, http.StatusUnprocessableEntity, apiError{Message: "Validation Failed", Errors: errs, DocumentationURL: doc})
}

// decodeBody decodes a JSON request body into v, writing GitHub's 400
// "Problems parsing JSON" when it is not valid JSON.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := json.NewDecoder(r.Body).Decode(v); err != nil {
		writeError(w, http.StatusBadRequest, "Problems parsing JSON", docREST)
		return false
	}
	return true
}

// requestID returns a GitHub-looking request ID for rate-limit messages.
func requestID(n int) string {
	return fmt.Sprintf("EMU0:%04X:%06X", n%0xFFFF, n)
}
