package ecs

import (
	"testing"
)

func TestParseECRImage(t *testing.T) {
	sc := scope{account: "111111111111", region: "us-east-1"}
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
		img, ok := parseECRImage(tt.image, sc)
		if ok != tt.ok || img.repo != tt.repo || img.tag != tt.tag || img.digest != tt.digst {
			t.Errorf("%s: got %+v, %v; want repo %q tag %q digest %q, %v", tt.image, img, ok, tt.repo, tt.tag, tt.digst, tt.ok)
		}
	}
}

func TestAddSecretStripsECSSuffixes(t *testing.T) {
	sc := scope{account: "111111111111", region: "us-east-1"}
	const arn = "arn:aws:secretsmanager:us-east-1:111111111111:secret:db-AbCdEf"
	tests := []struct {
		valueFrom     string
		byName        bool
		secret, param string
	}{
		{arn, false, arn, ""},
		{arn + ":password::", false, arn, ""},
		{arn + ":password:AWSCURRENT:", false, arn, ""},
		{"arn:aws:ssm:us-east-1:111111111111:parameter/db/url", false, "", "arn:aws:ssm:us-east-1:111111111111:parameter/db/url"},
		{"/db/url", false, "", "/db/url"},
		{"registry", true, "registry", ""},
		{"arn:aws:secretsmanager:eu-west-1:111111111111:secret:db-AbCdEf", false, "", ""},
		{"arn:aws:ssm:us-east-1:222222222222:parameter/db/url", false, "", ""},
	}
	for _, tt := range tests {
		rs := &refs{}
		rs.addSecret("f", tt.valueFrom, sc, tt.byName)
		var secret, param string
		if len(rs.secrets) == 1 {
			secret = rs.secrets[0].id
		}
		if len(rs.parameters) == 1 {
			param = rs.parameters[0].id
		}
		if secret != tt.secret || param != tt.param || len(rs.secrets)+len(rs.parameters) > 1 {
			t.Errorf("%s: got secret %q, parameter %q; want %q, %q", tt.valueFrom, secret, param, tt.secret, tt.param)
		}
	}
}
