package store

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
)

// Problem kinds Verify reports.
const (
	ProblemAltered  = "altered"   // the row's JSON or hash does not match its hash
	ProblemMissing  = "missing"   // rows are gone before this one (seq gap or broken link)
	ProblemReorder  = "reordered" // the row links to a row other than its predecessor
	ProblemHead     = "head"      // the newest row is not the recorded chain head (rows removed at the end)
	ProblemCounters = "counters"  // the row count disagrees with the running counter
)

// VerifyResult is the outcome of Verify.
type VerifyResult struct {
	OK bool
	// Checked is how many rows were verified.
	Checked int64
	// FirstSeq/LastSeq are the range checked.
	FirstSeq, LastSeq int64
	// AnchorSeq is the seq of the last row deleted by retention (0 if none):
	// the chain is checked from the row after it.
	AnchorSeq int64
	// The first bad row, when !OK.
	BadSeq  int64
	BadID   string
	Problem string
	Detail  string
}

func (v VerifyResult) String() string {
	if v.OK {
		return fmt.Sprintf("chain ok: %d events, seq %d..%d", v.Checked, v.FirstSeq, v.LastSeq)
	}
	return fmt.Sprintf("chain broken at seq %d (id %s): %s: %s", v.BadSeq, v.BadID, v.Problem, v.Detail)
}

// Verify recomputes the hash chain from the retention anchor to the head and
// reports the first bad row. It reads on one connection inside one read
// transaction, so it sees a consistent snapshot while appends go on.
func (s *Store) Verify(ctx context.Context) (VerifyResult, error) {
	var res VerifyResult
	conn, err := s.rdb.Conn(ctx)
	if err != nil {
		return res, fmt.Errorf("verify: %w", err)
	}
	defer conn.Close()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return res, fmt.Errorf("verify: %w", err)
	}
	defer tx.Rollback()
	var headSeq, anchorSeq, events int64
	var headHash, anchorHash []byte
	if err := tx.QueryRowContext(ctx, `SELECT head_seq, head_hash, anchor_seq, anchor_hash, events - deleted FROM chain WHERE id = 1`).
		Scan(&headSeq, &headHash, &anchorSeq, &anchorHash, &events); err != nil {
		return res, fmt.Errorf("verify: read chain: %w", err)
	}
	res.AnchorSeq = anchorSeq
	rows, err := tx.QueryContext(ctx, `SELECT seq, id, data, prev_hash, hash FROM events ORDER BY seq`)
	if err != nil {
		return res, fmt.Errorf("verify: %w", err)
	}
	defer rows.Close()
	prevSeq, prevHash, prevID := anchorSeq, anchorHash, ""
	var seq int64
	var id string
	var stored, js, ph, h []byte
	bad := func(p, detail string) (VerifyResult, error) {
		res.BadSeq, res.BadID, res.Problem, res.Detail = seq, id, p, detail
		return res, nil
	}
	broken := false
	for rows.Next() {
		if err := rows.Scan(&seq, &id, &stored, &ph, &h); err != nil {
			return res, fmt.Errorf("verify: %w", err)
		}
		if res.Checked == 0 {
			res.FirstSeq = seq
		}
		if !bytes.Equal(ph, prevHash) {
			broken = true
			break
		}
		if seq != prevSeq+1 {
			rows.Close()
			return bad(ProblemMissing, fmt.Sprintf("seq jumps from %d to %d", prevSeq, seq))
		}
		js, err = s.codec.decode(js[:0], stored)
		if err != nil {
			rows.Close()
			return bad(ProblemAltered, err.Error())
		}
		if !bytes.Equal(chainHash(ph, js), h) {
			rows.Close()
			return bad(ProblemAltered, "content does not match its hash")
		}
		prevSeq, prevHash, prevID = seq, append(prevHash[:0:0], h...), id
		res.Checked++
		res.LastSeq = seq
	}
	if err := rows.Err(); err != nil {
		return res, fmt.Errorf("verify: %w", err)
	}
	rows.Close()
	if broken {
		// The row does not link to its predecessor. Find out why: it links
		// to another row (reordered), rows are gone (seq gap or no row has
		// that hash), or the predecessor was rewritten with a fresh hash.
		var at int64
		err := tx.QueryRowContext(ctx, `SELECT seq FROM events WHERE hash = ? LIMIT 1`, ph).Scan(&at)
		switch {
		case err == nil:
			return bad(ProblemReorder, fmt.Sprintf("links to seq %d, expected seq %d", at, prevSeq))
		case seq != prevSeq+1:
			return bad(ProblemMissing, fmt.Sprintf("rows seq %d..%d are missing", prevSeq+1, seq-1))
		case prevID != "":
			next := seq
			seq, id = prevSeq, prevID
			return bad(ProblemAltered, fmt.Sprintf("its hash was rewritten: seq %d still links to the original %s", next, short(ph)))
		default:
			return bad(ProblemMissing, fmt.Sprintf("prev_hash %s does not match the retention anchor (seq %d)", short(ph), prevSeq))
		}
	}
	seq, id = prevSeq, ""
	if prevSeq != headSeq || !bytes.Equal(prevHash, headHash) {
		return bad(ProblemHead, fmt.Sprintf("last row is seq %d but the recorded head is seq %d: rows at the end were removed", prevSeq, headSeq))
	}
	if res.Checked != events {
		return bad(ProblemCounters, fmt.Sprintf("%d rows but %d recorded", res.Checked, events))
	}
	res.OK = true
	return res, nil
}

func short(h []byte) string {
	s := hex.EncodeToString(h)
	if len(s) > 12 {
		s = s[:12]
	}
	return s
}
