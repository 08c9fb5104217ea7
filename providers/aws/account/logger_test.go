package account_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"testing"

	"github.com/aws/smithy-go/logging"

	"github.com/jibe-dev/jibe/config"
	"github.com/jibe-dev/jibe/providers/aws/account"
)

// What the SDK logs (retries, checksum and deprecation warnings) goes
// through the process's slog logger, so that the agent's log stays one
// log in one format, whichever credentials an account uses: the SDK's
// default configuration would write plain lines to stderr.
func TestSDKLogsGoThroughSlog(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIADEFAULTCHAIN")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_CONFIG_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", t.TempDir()+"/none")
	var buf bytes.Buffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewJSONHandler(&buf, nil)))
	t.Cleanup(func() { slog.SetDefault(prev) })

	t.Setenv("JIBE_LOG_KEY", "AKIASTATIC")
	t.Setenv("JIBE_LOG_SECRET", "secret")
	static := &config.AWSCredentials{AccessKeyID: config.SecretRef{Env: "JIBE_LOG_KEY"}, SecretAccessKey: config.SecretRef{Env: "JIBE_LOG_SECRET"}}
	for _, creds := range []*config.AWSCredentials{nil, static} {
		buf.Reset()
		cfg, err := account.Config(t.Context(), config.AWSAccount{Name: "dev", Region: "eu-west-1", Credentials: creds}, "")
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Logger == nil {
			t.Fatalf("credentials %v: no SDK logger", creds != nil)
		}
		cfg.Logger.Logf(logging.Warn, "Response has no supported checksum. Not validating response payload.")
		var line map[string]any
		if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
			t.Fatalf("credentials %v: the SDK's line did not reach slog: %q", creds != nil, buf.String())
		}
		if line["level"] != "WARN" || line["msg"] != "Response has no supported checksum. Not validating response payload." ||
			line["account"] != "dev" || line["component"] != "aws-sdk" {
			t.Errorf("credentials %v: logged %v", creds != nil, line)
		}
	}
}
