package reports

// The "Experiment spec and run" section: the spec as written, manifest.json
// in words and in full, replay.json and assign.json.

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// addSpecAndRun indents manifest.json, replay.json and assign.json for
// display and lists manifest.json's fields in words (p.Spec and p.SpecPath
// are set by buildPage as read).
func addSpecAndRun(p *page, r *Report) error {
	var err error
	for _, pair := range []struct {
		raw json.RawMessage
		dst *string
	}{{r.Manifest, &p.Manifest}, {r.Replay, &p.Replay}, {r.Assign, &p.Assign}} {
		if len(pair.raw) == 0 {
			continue
		}
		var b bytes.Buffer
		if err = json.Indent(&b, pair.raw, "", "  "); err != nil {
			return err
		}
		*pair.dst = b.String()
	}
	if len(r.Manifest) > 0 {
		if p.ManifestFields, err = manifestFields(r.Manifest); err != nil {
			return fmt.Errorf("manifest.json: %w", err)
		}
	}
	return nil
}
