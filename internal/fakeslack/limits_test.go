package fakeslack

import (
	"encoding/json"
	"strings"
	"testing"
)

func blocksOf(t *testing.T, bs ...map[string]any) json.RawMessage {
	t.Helper()
	js, err := json.Marshal(bs)
	if err != nil {
		t.Fatal(err)
	}
	return js
}

func section(text string) map[string]any {
	return map[string]any{"type": "section", "text": map[string]any{"type": "mrkdwn", "text": text}}
}

// TestValidateAnswersAsSlack: each limit refuses one character over and
// takes the message at the limit.
func TestValidateAnswersAsSlack(t *testing.T) {
	field := func(s string) map[string]any { return map[string]any{"type": "mrkdwn", "text": s} }
	ctx := func(n int) map[string]any {
		var els []any
		for range n {
			els = append(els, field("x"))
		}
		return map[string]any{"type": "context", "elements": els}
	}
	many := func(n int, b map[string]any) []map[string]any {
		var out []map[string]any
		for range n {
			out = append(out, b)
		}
		return out
	}
	fields := func(n, size int) map[string]any {
		var fs []any
		for range n {
			fs = append(fs, field(strings.Repeat("f", size)))
		}
		return map[string]any{"type": "section", "fields": fs}
	}
	for _, tc := range []struct {
		name   string
		blocks []map[string]any
		text   string
		want   string // "" = accepted
	}{
		{"50 blocks", many(50, section("x")), "t", ""},
		{"51 blocks", many(51, section("x")), "t", "invalid_blocks"},
		{"header 150", []map[string]any{{"type": "header", "text": map[string]any{"type": "plain_text", "text": strings.Repeat("h", 150)}}}, "t", ""},
		{"header 151", []map[string]any{{"type": "header", "text": map[string]any{"type": "plain_text", "text": strings.Repeat("h", 151)}}}, "t", "invalid_blocks"},
		{"header mrkdwn", []map[string]any{{"type": "header", "text": map[string]any{"type": "mrkdwn", "text": "h"}}}, "t", "invalid_blocks"},
		{"header emoji counts two", []map[string]any{{"type": "header", "text": map[string]any{"type": "plain_text", "text": strings.Repeat("h", 149) + "🔴"}}}, "t", "invalid_blocks"},
		{"section 3000", []map[string]any{section(strings.Repeat("s", 3000))}, "t", ""},
		{"section 3001", []map[string]any{section(strings.Repeat("s", 3001))}, "t", "invalid_blocks"},
		{"empty section", []map[string]any{section("")}, "t", "invalid_blocks"},
		{"10 fields of 2000", []map[string]any{fields(5, 2000)}, "t", ""},
		{"11 fields", []map[string]any{fields(11, 1)}, "t", "invalid_blocks"},
		{"field 2001", []map[string]any{fields(1, 2001)}, "t", "invalid_blocks"},
		{"context 10", []map[string]any{ctx(10)}, "t", ""},
		{"context 11", []map[string]any{ctx(11)}, "t", "invalid_blocks"},
		{"block_id 256", []map[string]any{{"type": "divider", "block_id": strings.Repeat("b", 256)}}, "t", "invalid_blocks"},
		{"blocks 12000", many(4, section(strings.Repeat("s", 3000))), "t", ""},
		{"blocks 12001", append(many(4, section(strings.Repeat("s", 3000))), section("s")), "t", "msg_blocks_too_long"},
		{"text 40000", nil, strings.Repeat("t", 40000), ""},
		{"text 40001", nil, strings.Repeat("t", 40001), "msg_too_long"},
	} {
		var js json.RawMessage
		if tc.blocks != nil {
			js = blocksOf(t, tc.blocks...)
		}
		err := Validate(js, tc.text)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: refused: %v", tc.name, err)
		case tc.want != "" && (err == nil || err.Code != tc.want):
			t.Errorf("%s: got %v, want %s", tc.name, err, tc.want)
		}
	}
}
