package awsemu_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/smithy-go"
)

// refusal is a request AWS refuses: the error code and the start of the
// message its API reference (or the service itself) gives.
type refusal struct {
	code, message string
}

// check fails the test unless err is the refusal.
func (w refusal) check(t *testing.T, name string, err error) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != w.code || !strings.HasPrefix(ae.ErrorMessage(), w.message) {
		t.Errorf("%s: got %v; want %s: %s…", name, err, w.code, w.message)
	}
}

// Lambda refuses environments over 4 KB (measured as their JSON), reserved
// variable names and keys outside its pattern, and function names outside
// its pattern, as AWS does, on create and on update.
func TestLambdaRefusesEnvironmentsAndNamesAWSRefuses(t *testing.T) {
	ctx := context.Background()
	env := start(t)
	c := env.Lambda()
	base := func(name string, vars map[string]string) *lambda.CreateFunctionInput {
		return &lambda.CreateFunctionInput{FunctionName: aws.String(name), Role: aws.String("arn:aws:iam::111111111111:role/fn"),
			Runtime: lambdatypes.RuntimeProvidedal2023, Handler: aws.String("bootstrap"), Code: &lambdatypes.FunctionCode{ZipFile: []byte("v1")},
			Environment: &lambdatypes.Environment{Variables: vars}}
	}
	tooBig := map[string]string{"BLOB": strings.Repeat("x", 4096-len(`{"BLOB":""}`)+1)}
	fits := map[string]string{"BLOB": strings.Repeat("x", 4096-len(`{"BLOB":""}`))}
	envTooBig := refusal{"InvalidParameterValueException", "Lambda was unable to configure your environment variables because the environment variables you have provided exceeded the 4KB limit. String measured: {\"BLOB\":"}
	reserved := refusal{"InvalidParameterValueException", "Lambda was unable to configure your environment variables because the environment variables you have provided contains reserved keys that are currently not supported for modification. Reserved keys used in this request: AWS_REGION"}
	badKey := refusal{"ValidationException", "1 validation error detected: Value at 'environment.variables' failed to satisfy constraint: Map keys must satisfy constraint: [Member must satisfy regular expression pattern: [a-zA-Z]([a-zA-Z0-9_])+]"}
	badName := refusal{"ValidationException", "1 validation error detected: Value 'my.api' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern:"}
	for name, tc := range map[string]struct {
		in   *lambda.CreateFunctionInput
		want refusal
	}{
		"environment over 4 KB":   {base("api", tooBig), envTooBig},
		"reserved variable":       {base("api", map[string]string{"MODE": "x", "AWS_REGION": "eu-west-1"}), reserved},
		"key with a hyphen":       {base("api", map[string]string{"LOG-LEVEL": "debug"}), badKey},
		"key starting with digit": {base("api", map[string]string{"1MODE": "x"}), badKey},
		"name with a dot":         {base("my.api", nil), badName},
	} {
		_, err := c.CreateFunction(ctx, tc.in)
		tc.want.check(t, "create with "+name, err)
	}
	need(c.CreateFunction(ctx, base("api", fits))).on(t)
	waitActive(t, env, c, "api")
	update := func(vars map[string]string) error {
		_, err := c.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String("api"),
			Environment: &lambdatypes.Environment{Variables: vars}})
		return err
	}
	envTooBig.check(t, "update with an environment over 4 KB", update(tooBig))
	reserved.check(t, "update with a reserved variable", update(map[string]string{"AWS_REGION": "eu-west-1"}))
	badKey.check(t, "update with a hyphenated key", update(map[string]string{"LOG-LEVEL": "debug"}))
}
