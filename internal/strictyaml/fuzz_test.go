package strictyaml

import "testing"

// FuzzDecode checks that decoding never panics and that every problem
// has a message.
func FuzzDecode(f *testing.F) {
	f.Add([]byte("name: a\nsteps: [{weight: 1, wait: 1s}]\nlabels: {a: b}\n"))
	f.Add([]byte("a: &a [*a, *a]\nname: *a\n"))
	f.Add([]byte("<<: {name: x}\nfree: [1, {a: b}]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var s sample
		_, errs := Decode("f.yaml", data, &s)
		for _, e := range errs {
			if e.Message == "" {
				t.Fatalf("problem without message: %#v", e)
			}
		}
	})
}
