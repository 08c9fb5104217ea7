package slack

import "sync"

// delivery is one message for one webhook.
type delivery struct {
	hook *hook
	body []byte
	// event, source, app and env describe the message in logs.
	event, source, app, env string
}

// queue is a bounded FIFO of deliveries that never blocks its producer:
// when full, the oldest delivery is dropped. It counts deliveries in
// progress so that Flush can wait for them.
type queue struct {
	mu    sync.Mutex
	items []delivery
	max   int
	busy  int
	// ready has a value when items were added.
	ready chan struct{}
	// changed is closed (and replaced) whenever a delivery ends.
	changed chan struct{}
}

func newQueue(max int) *queue {
	return &queue{max: max, ready: make(chan struct{}, 1), changed: make(chan struct{})}
}

// push adds d, dropping and returning the oldest delivery when full.
func (q *queue) push(d delivery) (dropped *delivery) {
	q.mu.Lock()
	if len(q.items) >= q.max {
		old := q.items[0]
		dropped = &old
		q.items = q.items[1:]
	}
	q.items = append(q.items, d)
	q.mu.Unlock()
	select {
	case q.ready <- struct{}{}:
	default:
	}
	return dropped
}

// pop takes the oldest delivery and marks it in progress; the caller
// calls done or requeue.
func (q *queue) pop() (delivery, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.items) == 0 {
		return delivery{}, false
	}
	d := q.items[0]
	q.items = q.items[1:]
	q.busy++
	return d, true
}

// done ends a delivery in progress.
func (q *queue) done() {
	q.mu.Lock()
	q.busy--
	close(q.changed)
	q.changed = make(chan struct{})
	q.mu.Unlock()
}

// requeue puts an interrupted delivery back at the front and ends it.
func (q *queue) requeue(d delivery) {
	q.mu.Lock()
	q.items = append([]delivery{d}, q.items...)
	q.mu.Unlock()
	q.done()
	select {
	case q.ready <- struct{}{}:
	default:
	}
}

// idle reports whether nothing is queued or in progress; changed is
// closed when a delivery in progress ends.
func (q *queue) idle() (idle bool, changed <-chan struct{}) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.busy == 0 && len(q.items) == 0, q.changed
}
