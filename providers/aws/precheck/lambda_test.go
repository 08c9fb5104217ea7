package precheck

import (
	"net/url"
	"testing"
)

func TestTrustsReadsTrustPolicies(t *testing.T) {
	const lambda = "lambda.amazonaws.com"
	for _, tc := range []struct {
		doc  string
		want bool
	}{
		{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`, true},
		{url.QueryEscape(`{"Statement":[{"Effect":"Allow","Principal":{"Service":["ecs-tasks.amazonaws.com","lambda.amazonaws.com"]},"Action":["sts:AssumeRole","sts:TagSession"]}]}`), true},
		{`{"Statement":{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}}`, true},
		{`{"Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}`, false},
		{`{"Statement":[{"Effect":"Deny","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`, false},
		{`{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::1:root"},"Action":"sts:AssumeRole"}]}`, false},
		{`not json`, false},
	} {
		if got := trusts(tc.doc, lambda); got != tc.want {
			t.Errorf("trusts(%s) = %v, want %v", tc.doc, got, tc.want)
		}
	}
}
