package precheck

import (
	"testing"
)

func TestParseECRImage(t *testing.T) {
	sc := Scope{Account: "111111111111", Region: "us-east-1"}
	digest := "sha256:" + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	tests := []struct {
		image            string
		ok               bool
		repo, tag, digst string
	}{
		{"111111111111.dkr.ecr.us-east-1.amazonaws.com/web:v1", true, "web", "v1", ""},
		{"111111111111.dkr.ecr.us-east-1.amazonaws.com/team/web", true, "team/web", "latest", ""},
		{"111111111111.dkr.ecr.us-east-1.amazonaws.com/web@" + digest, true, "web", "", digest},
		{"111111111111.dkr.ecr-fips.us-east-1.amazonaws.com/web:v1.2-rc", true, "web", "v1.2-rc", ""},
		{"111111111111.dkr.ecr.eu-west-1.amazonaws.com/web:v1", false, "", "", ""},
		{"222222222222.dkr.ecr.us-east-1.amazonaws.com/web:v1", false, "", "", ""},
		{"public.ecr.aws/nginx/nginx:1.27", false, "", "", ""},
		{"nginx:1.27", false, "", "", ""},
	}
	for _, tt := range tests {
		img, ok := ParseECRImage(tt.image, sc)
		if ok != tt.ok || img.Repo != tt.repo || img.Tag != tt.tag || img.Digest != tt.digst {
			t.Errorf("%s: got %+v, %v; want repo %q tag %q digest %q, %v", tt.image, img, ok, tt.repo, tt.tag, tt.digst, tt.ok)
		}
	}
}
