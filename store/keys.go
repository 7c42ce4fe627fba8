package store

import (
	"encoding/binary"
	"time"

	"github.com/qoswatch/qoswatch/engine"
)

// Keys sort the way a person would list them: alerts by rule, source,
// participant; cursors by source, participant; the outbox by sequence
// (big-endian, so byte order is number order); spend by UTC date.
//
// Parts are joined by 0x00 0x01; a 0x00 inside a part becomes 0x00 0xFF.
// So any string is a valid part, no two keys collide, and a shorter part
// sorts before a longer one that starts the same ("a" < "ab").

func appendPart(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			b = append(b, 0, 0xFF)
			continue
		}
		b = append(b, s[i])
	}
	return b
}

func joinKey(parts ...string) []byte {
	n := len(parts) * 2
	for _, p := range parts {
		n += len(p)
	}
	b := make([]byte, 0, n)
	for i, p := range parts {
		if i > 0 {
			b = append(b, 0, 1)
		}
		b = appendPart(b, p)
	}
	return b
}

func alertKey(k engine.AlertKey) []byte { return joinKey(k.Rule, k.Source, k.Participant) }

func cursorKey(c engine.Cursor) []byte { return joinKey(c.Source, c.Participant) }

func seqKey(id uint64) []byte { return binary.BigEndian.AppendUint64(nil, id) }

// dayKey is the UTC date, "2026-11-28": fixed width, sorts by time.
func dayKey(day time.Time) []byte { return []byte(day.UTC().Format(time.DateOnly)) }
