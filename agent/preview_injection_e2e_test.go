package agent

import (
	"regexp"
	"strings"
	"testing"
)

// A pull request's author (no push rights needed) writes markdown into
// what the preview comment quotes: a ConfigMap value closing the plan's
// code fence, then a team mention and an image from their host; and a
// folder whose name is markdown, holding a broken spec. The comment must
// keep all of it as code: no mention pings a team, no image loads.
func TestE2EPlanPreviewQuotesMarkdownAsCode(t *testing.T) {
	e := newGateE2E(t)
	files := e.gateFiles("registry.example.com/shop/web:1.0.0", "")
	files["apps/shop/k8s/note.yaml"] = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: note}\ndata: {note: a}\n"
	v1 := e.push(files)
	e.settle("staging at v1", e.final("staging", v1))

	const payload = "@acme/sre please approve ![x](https://evil.example/p.png)"
	files["apps/shop/k8s/note.yaml"] = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: note}\ndata:\n  note: |\n    a\n    ```\n    " + payload + "\n    ````\n"
	files["apps/@acme sre ![y](https:evil.example)/jibe.yaml"] = "apiVersion: jibe.dev/v1alpha1\nkind: Application\nmetadata: {name: \"@acme/sre\"}\n"
	n, _, _ := e.openPull(files)
	comments := e.emu.Comments("acme/shop", n)
	if len(comments) != 1 || !strings.Contains(comments[0].Body, "please approve") {
		t.Fatalf("comments: %+v", comments)
	}
	body := comments[0].Body
	t.Logf("the preview comment:\n%s", body)
	if out := outsideCode(body); strings.Contains(out, "@acme") || strings.Contains(out, "evil.example") {
		t.Errorf("markdown outside code in the preview comment:\n%s", out)
	}
}

// outsideCode returns the text of a GitHub markdown body that is neither
// in a fenced code block nor in an inline code span (CommonMark's rules
// for backtick fences and spans, enough for the agent's comments).
func outsideCode(body string) string {
	var out strings.Builder
	fence := ""
	for line := range strings.Lines(body) {
		trimmed := strings.TrimRight(line, "\n")
		run := len(trimmed) - len(strings.TrimLeft(trimmed, "`"))
		switch {
		case fence == "" && run >= 3:
			fence = trimmed[:run]
		case fence != "" && run >= len(fence) && strings.Trim(trimmed, "` ") == "":
			fence = ""
		case fence == "":
			out.WriteString(inlineSpans.ReplaceAllStringFunc(trimmed, func(s string) string {
				return "" // a span
			}) + "\n")
		}
	}
	return out.String()
}

// inlineSpans matches inline code spans of one to three backticks.
var inlineSpans = regexp.MustCompile("```[^`]+```|``[^`]+``|`[^`]+`")
