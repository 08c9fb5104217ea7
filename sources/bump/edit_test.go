package bump

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

func TestEditKeepsEverythingButTheValue(t *testing.T) {
	cases := []struct {
		name     string
		change   Change
		in, want string
	}{{
		name:   "plain with comments and blank lines",
		change: Change{Artifact: "web", Path: "image", From: "acme/web:1.4.2", To: "acme/web:1.5.0"},
		in:     "# app\nspec:\n\n  artifacts:   # the things\n    web:\n      image: acme/web:1.4.2   # bumped by Jibe\n\n  targets: []\n",
		want:   "# app\nspec:\n\n  artifacts:   # the things\n    web:\n      image: acme/web:1.5.0   # bumped by Jibe\n\n  targets: []\n",
	}, {
		name:   "flow map",
		change: Change{Artifact: "web", Path: "image", From: "web:1", To: "web:22"},
		in:     "spec:\n  artifacts: {web: {image: web:1}, api: {image: web:1}}\n",
		want:   "spec:\n  artifacts: {web: {image: web:22}, api: {image: web:1}}\n",
	}, {
		name:   "double quoted",
		change: Change{Artifact: "web", Path: "image", From: "web:1", To: "web:2"},
		in:     "spec:\n  artifacts:\n    web:\n      image: \"web:1\" # quoted\n",
		want:   "spec:\n  artifacts:\n    web:\n      image: \"web:2\" # quoted\n",
	}, {
		name:   "single quoted",
		change: Change{Artifact: "web", Path: "image", From: "web:1", To: "it's:2"},
		in:     "spec:\n  artifacts:\n    web:\n      image: 'web:1'\n",
		want:   "spec:\n  artifacts:\n    web:\n      image: 'it''s:2'\n",
	}, {
		name:   "CRLF and several artifacts",
		change: Change{Artifact: "api", Path: "ami", From: "ami-0123", To: "ami-0456789"},
		in:     "spec:\r\n  artifacts:\r\n    web:\r\n      ami: ami-0123\r\n    api:\r\n      ami: ami-0123\r\n",
		want:   "spec:\r\n  artifacts:\r\n    web:\r\n      ami: ami-0123\r\n    api:\r\n      ami: ami-0456789\r\n",
	}, {
		name:   "s3 version, anchors elsewhere kept",
		change: Change{Artifact: "fn", Path: "s3.version", From: "v1", To: "v2"},
		in:     "x: &b {bucket: b}\nspec:\n  artifacts:\n    fn:\n      s3: {bucket: pkgs, key: fn.zip, version: v1}\n    other: {s3: *b}\n",
		want:   "x: &b {bucket: b}\nspec:\n  artifacts:\n    fn:\n      s3: {bucket: pkgs, key: fn.zip, version: v2}\n    other: {s3: *b}\n",
	}, {
		name:   "anchored value",
		change: Change{Artifact: "web", Path: "image", From: "web:1", To: "web:2"},
		in:     "spec:\n  artifacts:\n    web:\n      image: &img web:1\n    side: {image: other}\n",
		want:   "spec:\n  artifacts:\n    web:\n      image: &img web:2\n    side: {image: other}\n",
	}, {
		name:   "plain that would change type is quoted",
		change: Change{Artifact: "web", Path: "image", From: "web", To: "1.5"},
		in:     "spec:\n  artifacts:\n    web:\n      image: web # c\n",
		want:   "spec:\n  artifacts:\n    web:\n      image: \"1.5\" # c\n",
	}, {
		name:   "plain that would start a comment is quoted",
		change: Change{Artifact: "web", Path: "image", From: "web", To: "#x: y"},
		in:     "spec: {artifacts: {web: {image: web}}}\n",
		want:   "spec: {artifacts: {web: {image: \"#x: y\"}}}\n",
	}, {
		name:   "multibyte before the value",
		change: Change{Artifact: "wéb", Path: "image", From: "ü:1", To: "ü:2"},
		in:     "\xef\xbb\xbfspec:\n  artifacts: {\"wéb\": {image: ü:1}}  # ✓\n",
		want:   "\xef\xbb\xbfspec:\n  artifacts: {\"wéb\": {image: ü:2}}  # ✓\n",
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Edit([]byte(tc.in), tc.change)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("got\n%q\nwant\n%q", got, tc.want)
			}
		})
	}
}

func TestEditSuperseded(t *testing.T) {
	in := []byte("spec:\n  artifacts:\n    web:\n      image: web:3\n")
	cases := []struct {
		change  Change
		applied bool
		missing bool
	}{
		{change: Change{Artifact: "web", Path: "image", From: "web:1", To: "web:2"}},
		{change: Change{Artifact: "web", Path: "image", From: "web:1", To: "web:3"}, applied: true},
		{change: Change{Artifact: "gone", Path: "image", From: "web:1", To: "web:2"}, missing: true},
		{change: Change{Artifact: "web", Path: "ami", From: "ami-1", To: "ami-2"}, missing: true},
	}
	for _, tc := range cases {
		_, err := Edit(in, tc.change)
		var s *SupersededError
		if !errors.As(err, &s) {
			t.Fatalf("%+v: got %v, want a SupersededError", tc.change, err)
		}
		if s.Applied() != tc.applied || s.Missing != tc.missing {
			t.Errorf("%+v: applied %v missing %v, want %v %v (%v)", tc.change, s.Applied(), s.Missing, tc.applied, tc.missing, err)
		}
		if !strings.Contains(err.Error(), "jibe.yaml") {
			t.Errorf("error does not name the file: %v", err)
		}
	}
}

func TestEditRefusesWhatItCannotSplice(t *testing.T) {
	cases := map[string]struct {
		in     string
		change Change
	}{
		"used anchor": {"spec: {artifacts: {web: {image: &i web:1}, api: {image: *i}}}\n", Change{Artifact: "web", Path: "image", From: "web:1", To: "web:2"}},
		"alias":       {"a: &i web:1\nspec: {artifacts: {web: {image: *i}}}\n", Change{Artifact: "web", Path: "image", From: "web:1", To: "web:2"}},
		"block":       {"spec:\n  artifacts:\n    web:\n      image: |\n        web:1\n", Change{Artifact: "web", Path: "image", From: "web:1\n", To: "web:2"}},
		"multi-line":  {"spec:\n  artifacts:\n    web:\n      image: web\n        1\n", Change{Artifact: "web", Path: "image", From: "web 1", To: "web:2"}},
		"bad path":    {"spec: {}\n", Change{Artifact: "web", Path: "tag", From: "1", To: "2"}},
		"newline":     {"spec: {}\n", Change{Artifact: "web", Path: "image", From: "1", To: "2\n"}},
		"not yaml":    {"spec: [\n", Change{Artifact: "web", Path: "image", From: "1", To: "2"}},
		"in a folder": {"spec: [\n", Change{Folder: "apps/web", Artifact: "web", Path: "image", From: "1", To: "2"}},
	}
	for name, tc := range cases {
		_, err := Edit([]byte(tc.in), tc.change)
		var e *EditError
		if !errors.As(err, &e) {
			t.Errorf("%s: got %v, want an EditError", name, err)
		}
	}
	_, err := Edit([]byte("spec: [\n"), Change{Folder: "apps/web", Artifact: "web", Path: "image", From: "1", To: "2"})
	if !strings.Contains(err.Error(), "apps/web/jibe.yaml") {
		t.Errorf("error does not name the file: %v", err)
	}
}

// FuzzEdit checks, for any file and new value, that an edit changes the
// file on the value's line only and that the result reads as the same
// document but for the value.
func FuzzEdit(f *testing.F) {
	seeds := []string{
		"spec:\n  artifacts:\n    web:\n      image: acme/web:1 # c\n",
		"spec: {artifacts: {web: {image: 'x'}}}\r\n",
		"spec:\n  artifacts:\n    web: {image: \"a\\\"b\"}\n    api: {image: x}\n",
		"# c\n\nspec:\n  artifacts:\n    web:\n      image: &a x\n  other: *a\n",
	}
	for _, s := range seeds {
		f.Add(s, "acme/web:2")
		f.Add(s, "1.0")
		f.Add(s, "'\"#: x")
	}
	f.Fuzz(func(t *testing.T, in, to string) {
		from, ok := imageOf(in)
		if !ok {
			return
		}
		c := Change{Artifact: "web", Path: "image", From: from, To: to}
		out, sp, err := edit([]byte(in), c)
		if err != nil {
			return
		}
		checkEdit(t, []byte(in), out, sp, to)
	})
}

// imageOf returns spec.artifacts.web.image of a document, if it is a string.
func imageOf(in string) (string, bool) {
	var doc map[string]any
	if yaml.Unmarshal([]byte(in), &doc) != nil {
		return "", false
	}
	v, ok := lookup(doc, "spec", "artifacts", "web", "image")
	s, isString := v.(string)
	return s, ok && isString
}

func lookup(v any, keys ...string) (any, bool) {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = m[k]; !ok {
			return nil, false
		}
	}
	return v, true
}

func checkEdit(t *testing.T, in, out []byte, sp span, to string) {
	t.Helper()
	if !bytes.Equal(in[:sp.Start], out[:sp.Start]) || !bytes.Equal(in[sp.OldEnd:], out[sp.NewEnd:]) {
		t.Fatalf("bytes outside the value changed:\n%q\n%q", in, out)
	}
	var before, after map[string]any
	if err := yaml.Unmarshal(in, &before); err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(out, &after); err != nil {
		t.Fatalf("result does not parse: %v\n%q", err, out)
	}
	web, _ := lookup(before, "spec", "artifacts", "web")
	web.(map[string]any)["image"] = to
	if !reflect.DeepEqual(before, after) {
		t.Fatalf("result reads differently:\n%q\n%#v\n%#v", out, before, after)
	}
}
