// Package artifact records how deployable artifacts misbehave in the
// emulator: a container image or machine image whose instances fail their
// health checks (broken), or that pass them but answer a share of requests
// with errors; and the same for Lambda function versions.
package artifact

// Behavior is how the instances of an artifact behave.
type Behavior struct {
	// Broken instances fail their health checks (and Lambda invocations
	// fail).
	Broken bool
	// ErrorRate is the share of requests, in [0, 1], that healthy
	// instances answer with a 5xx (or a Lambda function error).
	ErrorRate float64
}

// Set is the set of misbehaving artifacts. It is not safe for concurrent
// use; the emulator guards it with its state lock.
type Set struct {
	images   map[string]Behavior
	versions map[string]Behavior
}

// NewSet returns a Set in which every artifact behaves.
func NewSet() *Set {
	return &Set{images: map[string]Behavior{}, versions: map[string]Behavior{}}
}

// MarkImageBroken makes instances of image fail their health checks.
func (s *Set) MarkImageBroken(image string) {
	b := s.images[image]
	b.Broken = true
	s.images[image] = b
}

// SetImageErrorRate makes healthy instances of image fail a share of
// requests.
func (s *Set) SetImageErrorRate(image string, rate float64) {
	b := s.images[image]
	b.ErrorRate = rate
	s.images[image] = b
}

// Image returns how instances of image behave.
func (s *Set) Image(image string) Behavior { return s.images[image] }

// ImageBroken reports whether image was marked broken.
func (s *Set) ImageBroken(image string) bool { return s.images[image].Broken }

// MarkFunctionVersionBroken makes invocations of a Lambda function version
// fail.
func (s *Set) MarkFunctionVersionBroken(function, version string) {
	b := s.versions[function+":"+version]
	b.Broken = true
	s.versions[function+":"+version] = b
}

// SetFunctionVersionErrorRate makes a share of a function version's
// invocations fail.
func (s *Set) SetFunctionVersionErrorRate(function, version string, rate float64) {
	b := s.versions[function+":"+version]
	b.ErrorRate = rate
	s.versions[function+":"+version] = b
}

// FunctionVersion returns how a function version behaves.
func (s *Set) FunctionVersion(function, version string) Behavior {
	return s.versions[function+":"+version]
}

// FunctionVersionBroken reports whether the function version was marked
// broken.
func (s *Set) FunctionVersionBroken(function, version string) bool {
	return s.versions[function+":"+version].Broken
}
