package assign_test

import (
	"fmt"
	"time"

	"github.com/signalab/signalab/assign"
	"github.com/signalab/signalab/signal"
)

// Bucket hashes a unit id with a salt onto the integer scale 0..9999.
func ExampleBucket() {
	b, _ := assign.Bucket(assign.GrowthBookV2, "seed", "a")
	fmt.Println(b)
	// GrowthBook's float form of the same hash (a cross-SDK vector: 0.0505).
	x, _ := assign.Hash("seed", "a", 2)
	fmt.Println(x)
	// Output:
	// 505
	// 0.0505
}

// An Assigner maps unit ids to arms; an empty id is never assigned.
func ExampleAssigner_Assign() {
	a, err := assign.NewAssigner(assign.GrowthBookV2, "inbox-signals-v1",
		[]assign.Arm{{Name: "control", Weight: 0.5}, {Name: "treatment", Weight: 0.5}}, 1)
	if err != nil {
		panic(err)
	}
	for _, id := range []string{"shop-1", "shop-2", "shop-4", ""} {
		arm, bucket, ok := a.Assign(id)
		if !ok {
			fmt.Printf("%q: not assigned\n", id)
			continue
		}
		fmt.Printf("%q: %s (bucket %d)\n", id, a.Arms()[arm].Name, bucket)
	}
	// Output:
	// "shop-1": treatment (bucket 5256)
	// "shop-2": treatment (bucket 6977)
	// "shop-4": control (bucket 1374)
	// "": not assigned
}

// BucketRanges are start-anchored: at 50 % coverage each arm keeps the first
// half of its range, so raising coverage later never moves a unit.
func ExampleBucketRanges() {
	fmt.Println(assign.BucketRanges([]float64{0.5, 0.5}, 0.5))
	fmt.Println(assign.BucketRanges([]float64{1.0 / 3, 1.0 / 3, 1.0 / 3}, 1))
	// Output:
	// [{0 2500} {5000 7500}]
	// [{0 3334} {3334 6667} {6667 10000}]
}

// Config.Validate reports every invalid value under its experiment.yaml key.
func ExampleConfig_Validate() {
	cfg := &assign.Config{Unit: "shop_id", Salt: "s1", Hash: assign.DefaultHash, Coverage: 1, SRMAlpha: assign.DefaultSRMAlpha,
		Variants: []assign.Arm{{Name: "control", Weight: 0.6}, {Name: "treatment", Weight: -0.1}}}
	fmt.Println(cfg.Validate())
	// Output:
	// variants[1].weight: -0.1 is negative; variants: weights sum to 0.5, want 1 (±1e-06)
}

// Run assigns the randomization units of a replay's conversations and tests
// the split for sample ratio mismatch. Buckets (5256, 1374) were checked with
// testdata/verify_vectors.py's independent hash.
func ExampleRun() {
	cfg := &assign.Config{Unit: "shop_id", Salt: "inbox-signals-v1", Hash: assign.GrowthBookV2, Coverage: 1,
		SRMAlpha: assign.DefaultSRMAlpha,
		Variants: []assign.Arm{{Name: "control", Weight: 0.5}, {Name: "treatment", Weight: 0.5}},
		Window: &assign.Window{Start: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC),
			End: time.Date(2026, 3, 29, 0, 0, 0, 0, time.UTC)}}
	at := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC).UnixMicro()
	convs := []signal.Conversation{
		{ConversationID: "c1", ShopID: "shop-1", StartedAt: at},
		{ConversationID: "c2", ShopID: "shop-1", StartedAt: at},
		{ConversationID: "c3", ShopID: "shop-4", StartedAt: at},
		{ConversationID: "c4", ShopID: "shop-3", StartedAt: at - 48*3600e6}, // before the window
	}
	res, err := assign.Run(cfg, convs, nil)
	if err != nil {
		panic(err)
	}
	for _, a := range res.Assignments {
		fmt.Printf("%s %q %v %s\n", a.UnitID, a.Variant, a.InExperiment, a.Reason)
	}
	fmt.Printf("SRM on %v shops: p = %.3f, flagged %v\n", res.Summary.SRM.Observed, res.Summary.SRM.PValue, res.Summary.SRM.Flagged)
	// Output:
	// shop-1 "treatment" true assigned
	// shop-3 "" false outside_window
	// shop-4 "control" true assigned
	// SRM on [1 1] shops: p = 1.000, flagged false
}
