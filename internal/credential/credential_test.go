package credential

import "testing"

func TestLooks(t *testing.T) {
	tests := []struct {
		s    string
		want bool
	}{
		// Names of variables and files.
		{"GITHUB_TOKEN", false},
		{"JIBE_WEBHOOK_SECRET", false},
		{"GITHUB_APP_PRIVATE_KEY_PRODUCTION_EU_WEST_1", false},
		{"AWSSECRETACCESSKEYPRODUCTION2024", false},
		{"ThisIsMyVeryLongVariableName", false},
		{"K8S_NAMESPACE_PRODUCTION_CLUSTER_1", false},
		{"ECS_TASK_ROLE_ARN_2024", false},
		{"x509certificate1", false},
		{"/etc/jibe/github-app.pem", false},
		{"secrets/token", false},
		{"/var/run/secrets/3f2b8c1e-4d5a-4b6c-9e8f-1a2b3c4d5e6f/token", false},
		{"/nix/store/0c7f8z2nqk4y6jv1abcdefghijklmnop-known_hosts", false},
		// Credentials.
		{"ghp_16C7e42F292c6912E7710c838347Ae178B4a", true},
		{"gho_16C7e42F292c6912E7710c838347Ae178B4a", true},
		{"ghu_16C7e42F292c6912E7710c838347Ae178B4a", true},
		{"ghs_16C7e42F292c6912E7710c838347Ae178B4a", true},
		{"ghr_16C7e42F292c6912E7710c838347Ae178B4a", true},
		{"github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz", true},
		{"/etc/jibe/ghp_16C7e42F292c6912E7710c838347Ae178B4a", true},
		{"AKIAIOSFODNN7EXAMPLE", true},
		{"ASIAIOSFODNN7EXAMPLE", true},
		{"xoxb-1234567890-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx", true},
		{"https://hooks.slack.com/services/T000/B000/XXXX", true},
		{"-----BEGIN RSA PRIVATE KEY-----", true},
		{"3f9a1b2c4d5e6f708192a3b4c5d6e7f8", true},
		{"a3f9a1b2c4d5e6f708192a3b4c5d6e7f8a3f9a1b2c4d5e6f708192a3b4c5d6e", true},
		{"wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY", true},
		{"aB3dE5fG7hJ9kL1m", true},
	}
	for _, tt := range tests {
		if got := LooksInPath(tt.s); got != tt.want {
			t.Errorf("LooksInPath(%q) = %v, want %v", tt.s, got, tt.want)
		}
	}
	// As a name rather than a path, a hashed folder is suspect.
	if !Looks("/nix/store/0c7f8z2nqk4y6jv1abcdefghijklmnop-known_hosts") {
		t.Error("Looks must check every word")
	}
}
