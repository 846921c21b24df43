package alert

import (
	"crypto/rand"
	"encoding/hex"
	"time"
)

// newID returns a UUIDv7 (RFC 9562) for an alert first seen at t: ids sort
// by first occurrence, which is the order `vigil alerts show` lists.
func newID(t time.Time) string {
	var u [16]byte
	ms := uint64(t.UnixMilli())
	for i := 0; i < 6; i++ {
		u[i] = byte(ms >> (40 - 8*i))
	}
	_, _ = rand.Read(u[6:]) // never fails (Go ≥1.24 crashes instead)
	u[6] = 0x70 | (u[6] & 0x0f)
	u[8] = 0x80 | (u[8] & 0x3f)
	var s [36]byte
	hex.Encode(s[0:8], u[0:4])
	hex.Encode(s[9:13], u[4:6])
	hex.Encode(s[14:18], u[6:8])
	hex.Encode(s[19:23], u[8:10])
	hex.Encode(s[24:], u[10:])
	s[8], s[13], s[18], s[23] = '-', '-', '-', '-'
	return string(s[:])
}
