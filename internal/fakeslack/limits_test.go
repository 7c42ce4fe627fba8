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
	plain := func(s string) map[string]any { return map[string]any{"type": "plain_text", "text": s} }
	button := func(text, value string) map[string]any {
		return map[string]any{"type": "button", "action_id": "b" + text, "text": plain(text), "value": value}
	}
	actions := func(els ...map[string]any) []map[string]any {
		var es []any
		for _, e := range els {
			es = append(es, e)
		}
		return []map[string]any{{"type": "actions", "block_id": "a", "elements": es}}
	}
	sel := func(placeholder string, opts ...[2]string) map[string]any {
		var os []any
		for _, o := range opts {
			os = append(os, map[string]any{"text": plain(o[0]), "value": o[1]})
		}
		return map[string]any{"type": "static_select", "action_id": "s", "placeholder": plain(placeholder), "options": os}
	}
	buttons := func(n int) []map[string]any {
		var out []map[string]any
		for i := range n {
			out = append(out, button(strings.Repeat("x", i+1), "v"))
		}
		return out
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
		{"block_id twice", []map[string]any{{"type": "divider", "block_id": "d"}, {"type": "divider", "block_id": "d"}}, "t", "invalid_blocks"},
		{"button 75", actions(button(strings.Repeat("b", 75), "v")), "t", ""},
		{"button 76", actions(button(strings.Repeat("b", 76), "v")), "t", "invalid_blocks"},
		{"button value 2000", actions(button("b", strings.Repeat("v", 2000))), "t", ""},
		{"button value 2001", actions(button("b", strings.Repeat("v", 2001))), "t", "invalid_blocks"},
		{"button style", actions(map[string]any{"type": "button", "text": plain("b"), "style": "green"}), "t", "invalid_blocks"},
		{"action_id 256", actions(map[string]any{"type": "button", "text": plain("b"), "action_id": strings.Repeat("a", 256)}), "t", "invalid_blocks"},
		{"action_id twice", actions(button("b", "1"), button("b", "2")), "t", "invalid_blocks"},
		{"25 elements", actions(buttons(25)...), "t", ""},
		{"26 elements", actions(buttons(26)...), "t", "invalid_blocks"},
		{"no elements", actions(), "t", "invalid_blocks"},
		{"select", actions(sel("Silence", [2]string{strings.Repeat("o", 75), strings.Repeat("v", 150)})), "t", ""},
		{"option text 76", actions(sel("Silence", [2]string{strings.Repeat("o", 76), "v"})), "t", "invalid_blocks"},
		{"option value 151", actions(sel("Silence", [2]string{"o", strings.Repeat("v", 151)})), "t", "invalid_blocks"},
		{"option value twice", actions(sel("Silence", [2]string{"o", "v"}, [2]string{"p", "v"})), "t", "invalid_blocks"},
		{"placeholder 151", actions(sel(strings.Repeat("p", 151), [2]string{"o", "v"})), "t", "invalid_blocks"},
		{"select without options", actions(sel("Silence")), "t", "invalid_blocks"},
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
