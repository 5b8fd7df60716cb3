// Package importer maps public e-commerce event logs to signalab's v1 event
// schema, so the replay and the experiment stages can run on real data.
//
// Two sources are supported (see docs/events.md, "Importing public logs"):
//
//   - OTTO (Normann, Baumeister, Wilm 2022, github.com/otto-de/recsys-dataset):
//     JSON lines {"session":N,"events":[{"aid":…,"ts":<unix ms>,"type":"clicks|carts|orders"}]}.
//   - REES46 Open CDP "eCommerce behavior data from multi category store": CSV
//     event_time,event_type,product_id,category_id,category_code,brand,price,user_id,user_session.
//
// Neither log has conversations, so imported logs have storefront events only
// (page_view, cart_update, order_placed); conversations can be overlaid by
// other tools. Imports are deterministic: the same input gives the same
// events, ids and bytes.
package importer
