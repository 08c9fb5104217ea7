package protocol

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Query is the awsQuery codec: form-encoded requests, XML responses
// wrapped in <OpResponse><OpResult>…</OpResult><ResponseMetadata>.
type Query struct {
	xmlns string
}

// NewQuery returns an awsQuery codec writing the given XML namespace,
// e.g. "http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/".
func NewQuery(xmlns string) *Query { return &Query{xmlns: xmlns} }

// WriteResult writes out, an encoding/xml-marshallable struct whose fields
// are the members of the operation's result, or nil.
func (q *Query) WriteResult(w http.ResponseWriter, c *Call, out any) {
	var buf bytes.Buffer
	fmt.Fprintf(&buf, `<%sResponse xmlns="%s">`, c.Operation, q.xmlns)
	if out == nil {
		fmt.Fprintf(&buf, "<%sResult></%sResult>", c.Operation, c.Operation)
	} else {
		enc := xml.NewEncoder(&buf)
		start := xml.StartElement{Name: xml.Name{Local: c.Operation + "Result"}}
		if err := enc.EncodeElement(out, start); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
	}
	fmt.Fprintf(&buf, `<ResponseMetadata><RequestId>%s</RequestId></ResponseMetadata></%sResponse>`, c.RequestID, c.Operation)
	w.Header().Set("Content-Type", "text/xml")
	setRequestID(w, c)
	_, _ = w.Write(buf.Bytes())
}

// WriteError writes <ErrorResponse><Error><Type/><Code/><Message/></Error>.
func (q *Query) WriteError(w http.ResponseWriter, c *Call, e *Error) {
	var buf bytes.Buffer
	fmt.Fprintf(&buf, `<ErrorResponse xmlns="%s"><Error><Type>%s</Type><Code>%s</Code><Message>`, q.xmlns, e.Fault(), e.Code)
	_ = xml.EscapeText(&buf, []byte(e.Message))
	fmt.Fprintf(&buf, `</Message></Error><RequestId>%s</RequestId></ErrorResponse>`, c.RequestID)
	writeErrorHeaders(w, e)
	w.Header().Set("Content-Type", "text/xml")
	setRequestID(w, c)
	w.WriteHeader(e.HTTPStatus())
	_, _ = w.Write(buf.Bytes())
}

// Form is a view of awsQuery parameters under a prefix, such as
// "Actions.member.1.ForwardConfig".
type Form struct {
	values url.Values
	prefix string
}

// NewForm returns the root view of parsed awsQuery parameters.
func NewForm(v url.Values) Form { return Form{values: v} }

func (f Form) key(name string) string {
	if f.prefix == "" {
		return name
	}
	return f.prefix + "." + name
}

// String returns the parameter name, or "" when absent.
func (f Form) String(name string) string { return f.values.Get(f.key(name)) }

// Has reports whether the parameter or any parameter below it is present.
func (f Form) Has(name string) bool {
	k := f.key(name)
	if _, ok := f.values[k]; ok {
		return true
	}
	for key := range f.values {
		if strings.HasPrefix(key, k+".") {
			return true
		}
	}
	return false
}

// Int returns the parameter as an integer and whether it was present and
// valid.
func (f Form) Int(name string) (int, bool) {
	s := f.String(name)
	if s == "" {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	return n, err == nil
}

// Bool returns the parameter as a boolean and whether it was present.
func (f Form) Bool(name string) (bool, bool) {
	s := f.String(name)
	if s == "" {
		return false, false
	}
	return s == "true", true
}

// Float returns the parameter as a float and whether it was present.
func (f Form) Float(name string) (float64, bool) {
	s := f.String(name)
	if s == "" {
		return 0, false
	}
	v, err := strconv.ParseFloat(s, 64)
	return v, err == nil
}

// Sub returns the view of the structure parameter name.
func (f Form) Sub(name string) Form { return Form{values: f.values, prefix: f.key(name)} }

// List returns the views of the members of list name (name.member.N).
func (f Form) List(name string) []Form {
	var out []Form
	for i := 1; ; i++ {
		item := f.Sub(name + ".member." + strconv.Itoa(i))
		if !f.Has(name + ".member." + strconv.Itoa(i)) {
			return out
		}
		out = append(out, item)
	}
}

// Strings returns the values of string list name (name.member.N).
func (f Form) Strings(name string) []string {
	var out []string
	for i := 1; ; i++ {
		k := f.key(name + ".member." + strconv.Itoa(i))
		v, ok := f.values[k]
		if !ok || len(v) == 0 {
			return out
		}
		out = append(out, v[0])
	}
}

// Map returns the entries of map name (name.entry.N.key / .value).
func (f Form) Map(name string) map[string]string {
	out := map[string]string{}
	for i := 1; ; i++ {
		e := f.Sub(name + ".entry." + strconv.Itoa(i))
		if !f.Has(name + ".entry." + strconv.Itoa(i)) {
			return out
		}
		out[e.String("key")] = e.String("value")
	}
}

// FlatList returns the views of the members of an EC2-style flat list
// (name.N).
func (f Form) FlatList(name string) []Form {
	var out []Form
	for i := 1; f.Has(name + "." + strconv.Itoa(i)); i++ {
		out = append(out, f.Sub(name+"."+strconv.Itoa(i)))
	}
	return out
}

// FlatStrings returns the values of an EC2-style flat string list (name.N).
func (f Form) FlatStrings(name string) []string {
	var out []string
	for i := 1; ; i++ {
		v, ok := f.values[f.key(name+"."+strconv.Itoa(i))]
		if !ok || len(v) == 0 {
			return out
		}
		out = append(out, v[0])
	}
}

// EC2Query is the ec2query codec: form-encoded requests, XML responses
// whose root is <OpResponse> with the members directly inside, and
// <Response><Errors><Error> errors.
type EC2Query struct {
	xmlns string
}

// NewEC2Query returns an ec2query codec writing the given XML namespace.
func NewEC2Query(xmlns string) *EC2Query { return &EC2Query{xmlns: xmlns} }

// WriteResult writes out's fields (encoding/xml tags, lower camel names)
// inside <OpResponse> after <requestId>.
func (q *EC2Query) WriteResult(w http.ResponseWriter, c *Call, out any) {
	var inner bytes.Buffer
	if out != nil {
		if err := xml.NewEncoder(&inner).EncodeElement(out, xml.StartElement{Name: xml.Name{Local: "x"}}); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
	}
	body := bytes.TrimSuffix(bytes.TrimPrefix(inner.Bytes(), []byte("<x>")), []byte("</x>"))
	var buf bytes.Buffer
	fmt.Fprintf(&buf, `<%sResponse xmlns="%s"><requestId>%s</requestId>`, c.Operation, q.xmlns, c.RequestID)
	buf.Write(body)
	fmt.Fprintf(&buf, `</%sResponse>`, c.Operation)
	w.Header().Set("Content-Type", "text/xml")
	setRequestID(w, c)
	_, _ = w.Write(buf.Bytes())
}

// WriteError writes <Response><Errors><Error><Code/><Message/>.
func (q *EC2Query) WriteError(w http.ResponseWriter, c *Call, e *Error) {
	var buf bytes.Buffer
	fmt.Fprintf(&buf, `<Response><Errors><Error><Code>%s</Code><Message>`, e.Code)
	_ = xml.EscapeText(&buf, []byte(e.Message))
	fmt.Fprintf(&buf, `</Message></Error></Errors><RequestID>%s</RequestID></Response>`, c.RequestID)
	writeErrorHeaders(w, e)
	w.Header().Set("Content-Type", "text/xml")
	setRequestID(w, c)
	w.WriteHeader(e.HTTPStatus())
	_, _ = w.Write(buf.Bytes())
}
