// Package loki owns Vigil's side of Grafana Loki: the push client
// (protobuf + snappy, JSON fallback, auth, retries), the checkpointed
// forwarder that ships the store's events in seq order, the alert stream,
// the query_range client behind `vigil query --loki`, and the translation
// of Vigil rules into Loki ruler alerting rules.
//
// Loki's own Go packages are never imported: the push request is encoded
// by hand with protowire, so Vigil does not inherit Loki's dependency tree.
package loki
