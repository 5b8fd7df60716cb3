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

// reorderHeap is a binary min-heap of rows by arrivalLess: the reorder buffer
// that holds generated rows until nothing earlier can be generated.
type reorderHeap []*item

func (h *reorderHeap) push(x *item) {
	*h = append(*h, x)
	s := *h
	i := len(s) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !arrivalLess(s[i], s[p]) {
			break
		}
		s[i], s[p] = s[p], s[i]
		i = p
	}
}

func (h *reorderHeap) pop() *item {
	s := *h
	top := s[0]
	n := len(s) - 1
	s[0] = s[n]
	s[n] = nil
	s = s[:n]
	i := 0
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		m := l
		if r := l + 1; r < n && arrivalLess(s[r], s[l]) {
			m = r
		}
		if !arrivalLess(s[m], s[i]) {
			break
		}
		s[i], s[m] = s[m], s[i]
		i = m
	}
	*h = s
	return top
}

// sessionHeap is a binary min-heap of buyers by the start of their next
// session (ties by buyer sequence, so the order is deterministic).
type sessionHeap []*buyer

func sessionLess(a, b *buyer) bool {
	if a.next != b.next {
		return a.next < b.next
	}
	return a.seq < b.seq
}

func (h *sessionHeap) push(x *buyer) {
	*h = append(*h, x)
	s := *h
	i := len(s) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !sessionLess(s[i], s[p]) {
			break
		}
		s[i], s[p] = s[p], s[i]
		i = p
	}
}

func (h *sessionHeap) pop() *buyer {
	s := *h
	top := s[0]
	n := len(s) - 1
	s[0] = s[n]
	s[n] = nil
	s = s[:n]
	i := 0
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		m := l
		if r := l + 1; r < n && sessionLess(s[r], s[l]) {
			m = r
		}
		if !sessionLess(s[m], s[i]) {
			break
		}
		s[i], s[m] = s[m], s[i]
		i = m
	}
	*h = s
	return top
}
