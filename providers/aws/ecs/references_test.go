package ecs

import (
	"testing"

	"github.com/jibe-dev/jibe/providers/aws/precheck"
)

func TestAddSecretStripsECSSuffixes(t *testing.T) {
	sc := precheck.Scope{Account: "111111111111", Region: "us-east-1"}
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
		rs := &precheck.Refs{}
		addSecret(rs, "f", tt.valueFrom, sc, tt.byName)
		var secret, param string
		if len(rs.Secrets) == 1 {
			secret = rs.Secrets[0].ID
		}
		if len(rs.Parameters) == 1 {
			param = rs.Parameters[0].ID
		}
		if secret != tt.secret || param != tt.param || len(rs.Secrets)+len(rs.Parameters) > 1 {
			t.Errorf("%s: got secret %q, parameter %q; want %q, %q", tt.valueFrom, secret, param, tt.secret, tt.param)
		}
	}
}
