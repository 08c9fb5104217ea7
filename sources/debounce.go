package sources

import "time"

// debouncer settles bursts of file events: it fires once events have been
// quiet for min, and at the latest max after the first event of a burst,
// so continuous writes cannot postpone a revision forever.
type debouncer struct {
	min, max    time.Duration
	first, last time.Time
	pending     bool
}

// observe records an event at now.
func (d *debouncer) observe(now time.Time) {
	if !d.pending {
		d.first, d.pending = now, true
	}
	d.last = now
}

// deadline returns when the pending burst is due, and false when nothing
// is pending.
func (d *debouncer) deadline() (time.Time, bool) {
	if !d.pending {
		return time.Time{}, false
	}
	quiet := d.last.Add(d.min)
	latest := d.first.Add(d.max)
	if latest.Before(quiet) {
		return latest, true
	}
	return quiet, true
}

// due reports whether the pending burst is due at now and, if so, starts
// a new one.
func (d *debouncer) due(now time.Time) bool {
	dl, ok := d.deadline()
	if !ok || now.Before(dl) {
		return false
	}
	d.pending = false
	return true
}
