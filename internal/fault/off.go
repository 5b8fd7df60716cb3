//go:build !faultinject

package fault

const enabled = false

// Point marks a point where a crash is tested; without the faultinject
// tag it does nothing.
func Point(name string) {}
