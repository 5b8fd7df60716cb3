package synth

// arrivalLess orders delivered rows as the log is written and as the replay
// orders a buyer's events in arrival mode: by (ingest_time, event_time,
// event_id). A redelivery always has a later ingest_time than its original.
func arrivalLess(a, b *item) bool {
	if a.ev.IngestTime != b.ev.IngestTime {
		return a.ev.IngestTime < b.ev.IngestTime
	}
	if a.ev.EventTime != b.ev.EventTime {
		return a.ev.EventTime < b.ev.EventTime
	}
	return a.ev.EventID < b.ev.EventID
}

// sessionLess orders buyers by the start of their next session (ties by
// buyer sequence, so the order is deterministic).
func sessionLess(a, b *buyer) bool {
	if a.next != b.next {
		return a.next < b.next
	}
	return a.seq < b.seq
}

// minHeap is a binary min-heap ordered by less. The generator keeps two: the
// buyers by the start of their next session (sessionLess), and the reorder
// buffer that holds generated rows until nothing earlier can be generated
// (arrivalLess).
type minHeap[T any] struct {
	items []T
	less  func(a, b T) bool
}

func newMinHeap[T any](less func(a, b T) bool) minHeap[T] { return minHeap[T]{less: less} }

func (h *minHeap[T]) len() int { return len(h.items) }

// peek returns the smallest item; the heap must not be empty.
func (h *minHeap[T]) peek() T { return h.items[0] }

func (h *minHeap[T]) push(x T) {
	h.items = append(h.items, x)
	s := h.items
	i := len(s) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !h.less(s[i], s[p]) {
			break
		}
		s[i], s[p] = s[p], s[i]
		i = p
	}
}

// pop removes and returns the smallest item; the heap must not be empty.
func (h *minHeap[T]) pop() T {
	s := h.items
	top := s[0]
	n := len(s) - 1
	s[0] = s[n]
	var zero T
	s[n] = zero
	s = s[:n]
	i := 0
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		m := l
		if r := l + 1; r < n && h.less(s[r], s[l]) {
			m = r
		}
		if !h.less(s[m], s[i]) {
			break
		}
		s[i], s[m] = s[m], s[i]
		i = m
	}
	h.items = s
	return top
}
