package beamreplay

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/signalab/signalab/replay"
	"github.com/signalab/signalab/replay/output"
)

// mergeFn is the last step: it runs once, with every manifest, and merges
// the sorted shards into the final outputs in Out.
type mergeFn struct {
	Out        string `json:"out"`
	WorkDir    string `json:"work_dir"`
	Run        string `json:"run"` // runInfo as JSON
	KeepShards bool   `json:"keep_shards"`
}

// merged is the union of all manifests.
type merged struct {
	counts                         replay.Counts
	splits                         []Split
	inputs                         []output.InputFile
	quarantine                     []string
	signals, conversations, orders []string
	sessions                       []string
}

func (fn *mergeFn) ProcessElement(_ int, manifests func(*string) bool) error {
	var info runInfo
	if err := json.Unmarshal([]byte(fn.Run), &info); err != nil {
		return fmt.Errorf("decode run info: %w", err)
	}
	var all merged
	var s string
	for manifests(&s) {
		var m manifest
		if err := json.Unmarshal([]byte(s), &m); err != nil {
			return fmt.Errorf("decode manifest: %w", err)
		}
		all.counts.Add(m.Counts)
		if m.Split != nil {
			all.splits = append(all.splits, *m.Split)
		}
		if m.Input != nil {
			all.inputs = append(all.inputs, *m.Input)
		}
		all.quarantine = append(all.quarantine, m.Quarantine...)
		all.signals = append(all.signals, m.Signals...)
		all.conversations = append(all.conversations, m.Conversations...)
		all.orders = append(all.orders, m.Orders...)
		all.sessions = append(all.sessions, m.Sessions...)
	}
	// Shard order only breaks ties between identical rows; sort anyway so
	// the merge does not depend on the order manifests arrive in.
	var remote []string
	for _, l := range [][]string{all.quarantine, all.signals, all.conversations, all.orders, all.sessions} {
		slices.Sort(l)
		for _, p := range l {
			if IsURL(p) {
				remote = append(remote, p)
			}
		}
	}
	if len(remote) > 0 {
		// Shards in an object store: merge local copies.
		local, err := os.MkdirTemp("", "signalab-beam-merge-")
		if err != nil {
			return fmt.Errorf("merge: %w", err)
		}
		defer os.RemoveAll(local)
		for _, l := range [][]string{all.quarantine, all.signals, all.conversations, all.orders, all.sessions} {
			for i, p := range l {
				if !IsURL(p) {
					continue
				}
				tmp, _, _, err := download(context.Background(), p, filepath.Ext(p))
				if err != nil {
					return fmt.Errorf("merge: %w", err)
				}
				dst := filepath.Join(local, filepath.Base(tmp))
				if err := os.Rename(tmp, dst); err != nil {
					os.Remove(tmp)
					return fmt.Errorf("merge: %w", err)
				}
				l[i] = dst
			}
		}
	}
	if err := writeOutputs(fn.Out, &all, &info); err != nil {
		return err
	}
	if !fn.KeepShards {
		if IsURL(fn.WorkDir) {
			removeObjects(remote)
			return nil
		}
		if err := os.RemoveAll(fn.WorkDir); err != nil {
			return fmt.Errorf("remove shards: %w", err)
		}
		// Remove Out/_beam too when no other run is using it.
		_ = os.Remove(filepath.Dir(fn.WorkDir))
	}
	return nil
}
