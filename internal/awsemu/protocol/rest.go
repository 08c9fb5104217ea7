package protocol

import (
	"net/url"
	"strings"
)

// Route binds a restJson1 operation to a method and URI template such as
// "GET /clusters/{name}/updates/{updateId}".
type Route struct {
	Method, Operation string
	segments          []string
}

// NewRoute parses "METHOD /path/{label}".
func NewRoute(spec, operation string) Route {
	method, path, _ := strings.Cut(spec, " ")
	return Route{Method: method, Operation: operation, segments: strings.Split(strings.Trim(path, "/"), "/")}
}

// Match binds the path labels of a request, or reports false. It matches
// the escaped path, so labels may contain encoded slashes (ARNs).
func (rt Route) Match(method, escapedPath string) (map[string]string, bool) {
	if method != rt.Method {
		return nil, false
	}
	segs := strings.Split(strings.Trim(escapedPath, "/"), "/")
	if len(segs) != len(rt.segments) {
		return nil, false
	}
	params := map[string]string{}
	for i, want := range rt.segments {
		if !strings.HasPrefix(want, "{") {
			if want != segs[i] {
				return nil, false
			}
			continue
		}
		v, err := url.PathUnescape(segs[i])
		if err != nil {
			return nil, false
		}
		params[strings.Trim(want, "{}")] = v
	}
	return params, true
}
