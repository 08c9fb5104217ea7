package lambda

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/jibe-dev/jibe/spec"
)

// zipFunction is a function zipped from the application's folder src,
// holding app.py with body (as the loader builds it).
func zipFunction(t *testing.T, body string) *spec.LambdaFunction {
	t.Helper()
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	f, err := w.Create("app.py")
	if err == nil {
		_, err = f.Write([]byte(body))
	}
	if err == nil {
		err = w.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	fn := function("")
	fn.Code = spec.LambdaCode{Folder: "src", ZipFile: buf.Bytes()}
	return fn
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return base64.StdEncoding.EncodeToString(s[:])
}

func TestZipFromFolderUpdatesCodeOnlyWhenFilesChange(t *testing.T) {
	r := newRig(t, Options{})
	fn1 := zipFunction(t, "v1")
	v1 := r.deployment("rev1", fn1, nil)
	r.rollout(v1)
	got, err := r.fn.GetFunction(r.ctx, &awslambda.GetFunctionInput{FunctionName: aws.String("orders"), Qualifier: aws.String("live")})
	if err != nil {
		t.Fatal(err)
	}
	if c := aws.ToString(got.Configuration.CodeSha256); c != sha(fn1.Code.ZipFile) {
		t.Fatalf("CodeSha256 %s, want the zip's %s", c, sha(fn1.Code.ZipFile))
	}

	// The same files, zipped again at another revision: no code update and
	// no version, only the revision tag.
	same := r.next(v1, "rev2", zipFunction(t, "v1"))
	if changes, err := r.p.Diff(r.ctx, same); err != nil || len(changes) != 0 {
		t.Fatalf("diff of the same files = %+v, %v; want none", changes, err)
	}
	r.env.Emu.ResetRequests()
	r.rollout(same)
	if w := r.writes(); !slices.Equal(w, []string{"TagResource"}) {
		t.Errorf("the same files made write calls %v, want the revision tag alone", w)
	}
	if vs := r.versionList(); !slices.Equal(vs, []string{"1"}) {
		t.Errorf("the same files: versions %v, want 1 alone", vs)
	}

	// One file changed: the code, then one new version.
	fn3 := zipFunction(t, "v2")
	v3 := r.next(same, "rev3", fn3)
	changes, err := r.p.Diff(r.ctx, v3)
	if err != nil || len(changes) != 1 || len(changes[0].Fields) != 1 {
		t.Fatalf("diff of a changed file = %+v, %v; want the code", changes, err)
	}
	if f := changes[0].Fields[0]; f.Path != "Code" || f.Live != "CodeSha256 "+sha(fn1.Code.ZipFile) || f.Desired != "CodeSha256 "+sha(fn3.Code.ZipFile)+" (zip of src)" {
		t.Errorf("code change %+v, want old → new CodeSha256", f)
	}
	r.env.Emu.ResetRequests()
	r.rollout(v3)
	want := []string{"UpdateFunctionCode", "TagResource", "PublishVersion", "TagResource", "UpdateAlias"}
	if w := r.writes(); !slices.Equal(w, want) {
		t.Errorf("write calls %v, want %v", w, want)
	}
	if vs := r.versionList(); !slices.Equal(vs, []string{"1", "2"}) {
		t.Errorf("versions %v, want 1 and 2", vs)
	}
}
