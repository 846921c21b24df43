package loki

import (
	"encoding/json"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/klauspost/compress/snappy"
	"google.golang.org/protobuf/encoding/protowire"
)

// Label is one name/value pair: a stream label or structured metadata.
type Label struct {
	Name  string
	Value string
}

// Entry is one log line of a stream.
type Entry struct {
	Time     time.Time
	Line     string
	Metadata []Label // structured metadata; empty values are dropped

	// orig is the event's own timestamp when Time was moved to keep the
	// stream's timestamps unique (the forwarder's verification range).
	orig time.Time
}

// Stream is a set of entries sharing one label set. Labels need not be
// sorted; empty values are dropped when encoding, as Loki would drop them.
type Stream struct {
	Labels  []Label
	Entries []Entry
}

// LabelString renders labels in Loki's stream selector syntax, sorted by
// name, empty values left out: {event="file_read", service="x"}.
func LabelString(labels []Label) string {
	ls := make([]Label, 0, len(labels))
	for _, l := range labels {
		if l.Value != "" {
			ls = append(ls, l)
		}
	}
	sort.Slice(ls, func(i, j int) bool { return ls[i].Name < ls[j].Name })
	var b strings.Builder
	b.WriteByte('{')
	for i, l := range ls {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(l.Name)
		b.WriteByte('=')
		b.WriteString(strconv.Quote(validUTF8(l.Value)))
	}
	b.WriteByte('}')
	return b.String()
}

func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

// Field numbers of logproto.PushRequest and friends (Loki's push.proto).
const (
	fieldPushStreams      = 1 // PushRequest.streams
	fieldStreamLabels     = 1 // StreamAdapter.labels
	fieldStreamEntries    = 2 // StreamAdapter.entries
	fieldEntryTimestamp   = 1 // EntryAdapter.timestamp (google.protobuf.Timestamp)
	fieldEntryLine        = 2 // EntryAdapter.line
	fieldEntryMetadata    = 3 // EntryAdapter.structuredMetadata
	fieldLabelPairName    = 1 // LabelPairAdapter.name
	fieldLabelPairValue   = 2 // LabelPairAdapter.value
	fieldTimestampSeconds = 1 // Timestamp.seconds
	fieldTimestampNanos   = 2 // Timestamp.nanos
)

// EncodeProtobuf marshals streams as a logproto.PushRequest. The result is
// not compressed.
func EncodeProtobuf(streams []Stream) []byte {
	var out []byte
	var sb, eb, tb, lb []byte // scratch buffers reused across messages
	for _, s := range streams {
		sb = sb[:0]
		sb = protowire.AppendTag(sb, fieldStreamLabels, protowire.BytesType)
		sb = protowire.AppendString(sb, LabelString(s.Labels))
		for _, e := range s.Entries {
			eb = eb[:0]
			tb = tb[:0]
			if sec := e.Time.Unix(); sec != 0 {
				tb = protowire.AppendTag(tb, fieldTimestampSeconds, protowire.VarintType)
				tb = protowire.AppendVarint(tb, uint64(sec))
			}
			if ns := e.Time.Nanosecond(); ns != 0 {
				tb = protowire.AppendTag(tb, fieldTimestampNanos, protowire.VarintType)
				tb = protowire.AppendVarint(tb, uint64(int64(ns)))
			}
			eb = protowire.AppendTag(eb, fieldEntryTimestamp, protowire.BytesType)
			eb = protowire.AppendBytes(eb, tb)
			eb = protowire.AppendTag(eb, fieldEntryLine, protowire.BytesType)
			eb = protowire.AppendString(eb, validUTF8(e.Line))
			for _, m := range e.Metadata {
				if m.Value == "" {
					continue
				}
				lb = lb[:0]
				lb = protowire.AppendTag(lb, fieldLabelPairName, protowire.BytesType)
				lb = protowire.AppendString(lb, m.Name)
				lb = protowire.AppendTag(lb, fieldLabelPairValue, protowire.BytesType)
				lb = protowire.AppendString(lb, validUTF8(m.Value))
				eb = protowire.AppendTag(eb, fieldEntryMetadata, protowire.BytesType)
				eb = protowire.AppendBytes(eb, lb)
			}
			sb = protowire.AppendTag(sb, fieldStreamEntries, protowire.BytesType)
			sb = protowire.AppendBytes(sb, eb)
		}
		out = protowire.AppendTag(out, fieldPushStreams, protowire.BytesType)
		out = protowire.AppendBytes(out, sb)
	}
	return out
}

// EncodeSnappy returns the push request as Loki's default wire format:
// protobuf compressed with snappy's block format.
func EncodeSnappy(streams []Stream) []byte {
	return snappy.Encode(nil, EncodeProtobuf(streams))
}

// EncodeJSON marshals streams in the JSON form of the push API:
// {"streams":[{"stream":{...},"values":[["<ns>","<line>",{meta}]]}]}.
func EncodeJSON(streams []Stream) ([]byte, error) {
	type jsonStream struct {
		Stream map[string]string `json:"stream"`
		Values [][]any           `json:"values"`
	}
	req := struct {
		Streams []jsonStream `json:"streams"`
	}{Streams: make([]jsonStream, 0, len(streams))}
	for _, s := range streams {
		js := jsonStream{Stream: make(map[string]string, len(s.Labels)), Values: make([][]any, 0, len(s.Entries))}
		for _, l := range s.Labels {
			if l.Value != "" {
				js.Stream[l.Name] = validUTF8(l.Value)
			}
		}
		for _, e := range s.Entries {
			v := []any{strconv.FormatInt(e.Time.UnixNano(), 10), validUTF8(e.Line)}
			if len(e.Metadata) > 0 {
				md := make(map[string]string, len(e.Metadata))
				for _, m := range e.Metadata {
					if m.Value != "" {
						md[m.Name] = validUTF8(m.Value)
					}
				}
				if len(md) > 0 {
					v = append(v, md)
				}
			}
			js.Values = append(js.Values, v)
		}
		req.Streams = append(req.Streams, js)
	}
	return json.Marshal(req)
}
