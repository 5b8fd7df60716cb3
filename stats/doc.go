// Package stats is signalab's statistical engine. It works on sufficient
// statistics per arm, so it is equally fast on ten rows or ten billion.
// Each estimator's doc comment states its formula, preconditions, special
// cases and a citation; docs/statistics.md explains the methods.
package stats

import "math"

var inf = math.Inf(1)
