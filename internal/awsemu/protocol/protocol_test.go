package protocol

import (
	"encoding/xml"
	"net/url"
	"testing"
)

func TestParseAuthorization(t *testing.T) {
	for _, tc := range []struct {
		header string
		want   Credential
		ok     bool
	}{
		{"AWS4-HMAC-SHA256 Credential=AKID/20260101/eu-west-1/ecs/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc",
			Credential{AccessKey: "AKID", Date: "20260101", Region: "eu-west-1", Service: "ecs"}, true},
		{"AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/monitoring/aws4_request,SignedHeaders=host,Signature=x",
			Credential{AccessKey: "AKID", Date: "20260101", Region: "us-east-1", Service: "monitoring"}, true},
		{"Bearer token", Credential{}, false},
		{"AWS4-HMAC-SHA256 Credential=broken, Signature=x", Credential{}, false},
	} {
		got, ok := ParseAuthorization(tc.header)
		if ok != tc.ok || got != tc.want {
			t.Errorf("ParseAuthorization(%q) = %+v, %v; want %+v, %v", tc.header, got, ok, tc.want, tc.ok)
		}
	}
}

func TestPageWalksEveryItemOnce(t *testing.T) {
	seen, token, pages := 0, "", 0
	for {
		start, end, next, err := Page(7, token, 3, 100)
		if err != nil {
			t.Fatal(err)
		}
		seen += end - start
		pages++
		if next == "" {
			break
		}
		token = next
	}
	if seen != 7 || pages != 3 {
		t.Errorf("saw %d items over %d pages, want 7 over 3", seen, pages)
	}
	if _, _, _, err := Page(7, "garbage!", 3, 100); err == nil {
		t.Error("invalid token accepted")
	}
}

func TestFormTreeReencodesAsQueryXML(t *testing.T) {
	v := url.Values{
		"Actions.member.1.Type": {"forward"},
		"Actions.member.1.ForwardConfig.TargetGroups.member.2.Weight": {"10"},
		"Actions.member.1.ForwardConfig.TargetGroups.member.1.Weight": {"90"},
		"Actions.member.10.Type": {"fixed-response"},
	}
	n := NewForm(v).Tree("Actions")
	b, err := xml.Marshal(struct {
		XMLName xml.Name `xml:"R"`
		Actions *Node
	}{Actions: n})
	if err != nil {
		t.Fatal(err)
	}
	want := `<R><Actions><member><ForwardConfig><TargetGroups><member><Weight>90</Weight></member><member><Weight>10</Weight></member></TargetGroups></ForwardConfig><Type>forward</Type></member><member><Type>fixed-response</Type></member></Actions></R>`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
	if NewForm(v).Tree("Missing") != nil {
		t.Error("absent parameter produced a tree")
	}
}
