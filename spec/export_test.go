package spec

// WithZipLimits lowers the package limits of Code.Folder (zipped and
// unzipped bytes) so tests need not build 50 MB zips.
func WithZipLimits(zipped, unzipped int64) Option {
	return func(l *loader) { l.zipLimits = zipLimits{zipped: zipped, unzipped: unzipped} }
}
