package keyerr

import (
	"errors"
	"fmt"
	"testing"
)

func TestListAndUnder(t *testing.T) {
	var l List
	if l.Err() != nil {
		t.Fatal("empty list is an error")
	}
	l.Add("dedupe_window", "%s is not valid", "0s")
	l.Add("", "empty")
	l.Add("[2].weight", "negative")
	if got, want := l.Err().Error(), "dedupe_window: 0s is not valid; empty; [2].weight: negative"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	u := Under("signals", fmt.Errorf("wrapped: %w", l))
	got := From(u)
	want := []string{"signals.dedupe_window", "signals", "signals[2].weight"}
	if len(got) != len(want) {
		t.Fatalf("From(Under) = %v", got)
	}
	for i, e := range got {
		if e.Key != want[i] {
			t.Errorf("key %d = %q, want %q", i, e.Key, want[i])
		}
	}
	plain := errors.New("not a key error")
	if Under("x", plain) != plain || From(plain) != nil {
		t.Error("a plain error changed")
	}
	if e := From(&Error{Key: "k", Msg: "m"}); len(e) != 1 || e[0].Error() != "k: m" {
		t.Errorf("From(*Error) = %v", e)
	}
}
