package live

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// restore rebuilds the tasks of parts from the changelog, replacing any
// held: on assignment, and after an aborted transaction (whose changes the
// changelog does not hold). It first waits until no transaction is open on
// those changelog partitions, so that the state read is exactly the
// committed one: a previous owner's last transaction either committed
// (then its offsets and its state changes are both visible) or aborted
// (neither is).
func (p *Processor) restore(ctx context.Context, parts []int32) error {
	start := time.Now()
	wait := 2*p.txnTimeout() + 10*time.Second
	ends, err := stableEnds(ctx, p.admin, p.cfg.Topics.Changelog, parts, wait)
	if err != nil {
		return fmt.Errorf("live: restore: %w", err)
	}
	tasks := make(map[int32]*task, len(parts))
	for _, part := range parts {
		tasks[part] = newTask(&p.s, part)
	}
	// One goroutine per partition decodes its records (the decoding of
	// the states is most of a restore's work), while this one fetches.
	var n atomic.Int64
	feeds := make(map[int32]chan *kgo.Record, len(parts))
	errs := make([]error, len(parts))
	var wg sync.WaitGroup
	for i, part := range parts {
		ch := make(chan *kgo.Record, 4096)
		feeds[part] = ch
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := tasks[part]
			for r := range ch {
				if errs[i] != nil {
					continue // drain
				}
				errs[i] = t.restoreRecord(r)
				n.Add(1)
			}
		}()
	}
	err = readPartitions(ctx, p.clientOpts(), p.cfg.Topics.Changelog, ends, func(r *kgo.Record) error {
		feeds[r.Partition] <- r
		return nil
	})
	for _, ch := range feeds {
		close(ch)
	}
	wg.Wait()
	if err == nil {
		err = errors.Join(errs...)
	}
	if err != nil {
		return fmt.Errorf("live: restore: %w", err)
	}
	var buyers int
	for part, t := range tasks {
		t.loaded()
		p.tasks[part] = t
		p.views.replace(t)
		buyers += len(t.buyers)
	}
	if m := p.cfg.Metrics; m != nil {
		m.RestoreSeconds.Observe(time.Since(start).Seconds())
		m.Restored.Add(float64(buyers))
	}
	p.gauges()
	p.log.Info("live: restored", "partitions", parts, "buyers", buyers, "records", n.Load(), "seconds", time.Since(start).Seconds())
	return nil
}

// restoreRecord applies one changelog record to t: a buyer's state, a
// tombstone (the buyer was forgotten) or the partition's counts.
func (t *task) restoreRecord(r *kgo.Record) error {
	if r.Value == nil {
		k, err := parseChangelogKey(r.Key)
		if err != nil {
			return fmt.Errorf("changelog %s partition %d offset %d: tombstone key %q: %w", r.Topic, r.Partition, r.Offset, r.Key, err)
		}
		delete(t.buyers, k)
		return nil
	}
	if err := t.load(r.Key, r.Value); err != nil {
		return fmt.Errorf("changelog %s partition %d offset %d: %w", r.Topic, r.Partition, r.Offset, err)
	}
	return nil
}

func (p *Processor) txnTimeout() time.Duration {
	if p.cfg.TransactionTimeout > 0 {
		return p.cfg.TransactionTimeout
	}
	return 40 * time.Second
}

// stableEnds waits until no transaction is open on the partitions of topic
// (last stable offset = high watermark) and returns their end offsets.
func stableEnds(ctx context.Context, cl *kgo.Client, topic string, parts []int32, wait time.Duration) (map[int32]int64, error) {
	deadline := time.Now().Add(wait)
	for {
		hw, err := endOffsets(ctx, cl, topic, parts, readUncommitted)
		if err != nil {
			return nil, err
		}
		lso, err := endOffsets(ctx, cl, topic, parts, readCommitted)
		if err != nil {
			return nil, err
		}
		open := -1
		for _, p := range parts {
			if lso[p] != hw[p] {
				open = int(p)
				break
			}
		}
		if open < 0 {
			return hw, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("%s partition %d still has an open transaction after %s (a producer died mid-transaction? it is aborted after its transaction timeout)", topic, open, wait)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// readPartitions reads the committed records of topic's partitions from
// their start up to (not including) the end offsets given, calling fn for
// each data record in offset order within a partition.
func readPartitions(ctx context.Context, opts []kgo.Opt, topic string, ends map[int32]int64, fn func(*kgo.Record) error) error {
	start := map[int32]kgo.Offset{}
	remaining := map[int32]int64{}
	for p, end := range ends {
		if end > 0 {
			start[p] = kgo.NewOffset().AtStart()
			remaining[p] = end
		}
	}
	if len(remaining) == 0 {
		return nil
	}
	cl, err := kgo.NewClient(append(opts,
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: start}),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		// Control records (transaction markers) are kept so that the last
		// offset before the end is always seen, even when it is a marker.
		kgo.KeepControlRecords(),
		kgo.FetchMaxWait(100*time.Millisecond),
	)...)
	if err != nil {
		return err
	}
	defer cl.Close()
	for len(remaining) > 0 {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return err
		}
		var ferr error
		fs.EachError(func(t string, p int32, err error) {
			if ferr == nil && !errors.Is(err, context.Canceled) {
				ferr = fmt.Errorf("read %s partition %d: %w", t, p, err)
			}
		})
		if ferr != nil {
			return ferr
		}
		var rerr error
		fs.EachRecord(func(r *kgo.Record) {
			end, ok := remaining[r.Partition]
			if rerr != nil || !ok {
				return
			}
			if r.Offset < end && !r.Attrs.IsControl() {
				rerr = fn(r)
			}
			if r.Offset >= end-1 {
				delete(remaining, r.Partition)
			}
		})
		if rerr != nil {
			return rerr
		}
	}
	return nil
}
