// Package metrics builds the unit table (units.parquet): one row per analysed
// conversation with its variant, every metric of the experiment spec, CUPED
// covariates from the pre-period, segment columns and the trigger flag. See
// docs/metrics.md.
//
// Attribution: a conversation converts when its buyer places an order at the
// same shop within the metric's window after the conversation starts,
//
//	orders(c, w)  = #{o : o.shop = c.shop, o.buyer = c.buyer, c.started_at ≤ o.time < c.started_at + w}
//	revenue(c, w) = Σ o.order_value_cents over the same orders
//	converted     = orders > 0
//
// The inputs are the replay's conversations.parquet and orders.parquet, both
// sorted by (shop_id, buyer_id, time), and joined per buyer in one streaming
// pass, so memory is bounded by one buyer's orders plus the assignment map.
package metrics
