package rules

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/scanner"
	"github.com/goccy/go-yaml/token"
)

// Limits on a rules or rule test file. A file is read by people's tools
// and reloaded into a running daemon, so a broken or hostile one must cost
// bounded time and memory: each limit is checked before the step it
// protects (the read, the parse, the decode that expands aliases).
const (
	// MaxFileBytes is the largest file read: a rules file of MaxRules
	// rules with descriptions fits.
	MaxFileBytes = 1 << 20
	// MaxDepth is how deeply mappings and lists may nest. A rules file
	// needs 5 levels, a test file 7. goccy's parser takes time and memory
	// in the square of the depth (100,000 nested [ ran it out of memory).
	MaxDepth = 32
	// MaxValues is how many values (scalars, mappings, lists) a file may
	// stand for once its aliases are expanded: 26 levels of merge keys
	// that each merge the level below twice are 971 bytes and 2^26 values.
	MaxValues = 200_000
	// MaxRules is the most rules a file may have: each one is evaluated
	// for every participant every minute.
	MaxRules = 1000
	// MaxRoutes is the most routes a file may have: each notification
	// tries them in order.
	MaxRoutes = 1000
)

// readFile reads a rules or test file of at most MaxFileBytes (and one
// byte more, so Parse can say it is too big). The error says what failed,
// without the path, which the caller puts in front.
func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read the file: %w", unwrapPath(err))
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("cannot read the file: %w", unwrapPath(err))
	}
	return data, nil
}

func unwrapPath(err error) error {
	if pe, ok := errors.AsType[*os.PathError](err); ok {
		return pe.Err
	}
	return err
}

// parseYAML parses one file within the limits, reporting a problem as a
// positioned error. It returns nil when the file cannot be used.
func (l *loader) parseYAML(data []byte) *ast.File {
	if len(data) > MaxFileBytes {
		l.errorAt(0, 0, "", "the file is over %d KiB, the most qoswatch reads (a rules file of %d rules fits)", MaxFileBytes>>10, MaxRules)
		return nil
	}
	tokens, ok := l.tokenize(data)
	if !ok {
		return nil
	}
	f, err := parser.Parse(tokens, 0)
	if err != nil {
		l.yamlError(err, "")
		return nil
	}
	c := &valueCounter{anchors: map[string]int{}}
	for _, d := range f.Docs {
		c.count(d.Body, 0)
	}
	switch {
	case c.deep != nil:
		l.errorf(c.deep, "", "the file nests mappings and lists more than %d levels deep", MaxDepth)
		return nil
	case c.over != nil:
		l.errorf(c.over, "", "the aliases (*name) expand this file to more than %d values, far more than a rules file needs: is an anchor merged into itself, level after level?", MaxValues)
		return nil
	}
	return f
}

// tokenize runs goccy's scanner (as parser.ParseBytes does) and refuses
// flow collections ([ and {) nested deeper than MaxDepth before the parser
// sees them.
func (l *loader) tokenize(data []byte) (token.Tokens, bool) {
	var s scanner.Scanner
	s.Init(string(data))
	var tokens token.Tokens
	depth := 0
	for {
		sub, err := s.Scan()
		if err == io.EOF {
			break
		}
		for _, tk := range sub {
			switch tk.Type {
			case token.SequenceStartType, token.MappingStartType:
				if depth++; depth > MaxDepth {
					l.errorAt(tk.Position.Line, tk.Position.Column, "", "the file nests [ and { more than %d levels deep", MaxDepth)
					return nil, false
				}
			case token.SequenceEndType, token.MappingEndType:
				depth--
			}
		}
		tokens.Add(sub...)
	}
	return tokens, true
}

// valueCounter counts the values a file stands for with its aliases
// expanded, and finds the first place too deep or too many.
type valueCounter struct {
	n       int            // values so far, aliases expanded
	anchors map[string]int // anchor name → the values it stands for
	over    ast.Node       // where n passed MaxValues
	deep    ast.Node       // the first node deeper than MaxDepth
}

func (c *valueCounter) count(n ast.Node, depth int) {
	if c.over != nil || c.deep != nil {
		return
	}
	add := func(k int) {
		if c.n += k; c.n > MaxValues && c.over == nil {
			c.over = n
		}
	}
	// nest counts a mapping or a list, one value, and its children a level deeper.
	nest := func(children ...ast.Node) {
		if depth+1 > MaxDepth {
			c.deep = n
			return
		}
		add(1)
		for _, child := range children {
			c.count(child, depth+1)
		}
	}
	switch v := n.(type) {
	case nil:
	case *ast.MappingNode:
		children := make([]ast.Node, 0, 2*len(v.Values))
		for _, mv := range v.Values {
			children = append(children, mv.Key, mv.Value)
		}
		nest(children...)
	case *ast.MappingValueNode: // a mapping of one key
		nest(v.Key, v.Value)
	case *ast.SequenceNode:
		nest(v.Values...)
	case *ast.AnchorNode:
		before := c.n
		c.count(v.Value, depth)
		c.anchors[v.Name.GetToken().Value] = c.n - before
	case *ast.AliasNode:
		k, ok := c.anchors[v.Value.GetToken().Value]
		if !ok {
			k = 1
		}
		add(k)
	case *ast.TagNode:
		c.count(v.Value, depth)
	case *ast.MappingKeyNode:
		c.count(v.Value, depth)
	case *ast.CommentGroupNode, *ast.CommentNode:
	default:
		add(1)
	}
}

// yamlError turns one of goccy's errors into a positioned Error, at the
// line a person must fix, in words for the mistakes people make.
func (l *loader) yamlError(err error, rule string) {
	var ye yaml.Error
	if !errors.As(err, &ye) || ye.GetToken() == nil || ye.GetToken().Position == nil {
		l.errorAt(0, 0, rule, "%s", err)
		return
	}
	tk, msg := ye.GetToken(), ye.GetMessage()
	line, col := tk.Position.Line, tk.Position.Column
	switch {
	case strings.HasPrefix(msg, "found character '\t'"), strings.Contains(msg, "a tab character"):
		msg = "a tab indents this line: YAML indents with spaces only"
	case msg == "mapping value is not allowed in this context" && strings.Contains(strings.TrimRight(tk.Origin, " \n"), "\n"):
		// goccy read an over-indented `key:` as the rest of the value
		// above it and stops at the colon: point at that key.
		line, col = endOf(tk)
		rest := tk.Origin[strings.LastIndexByte(tk.Origin, '\n')+1:]
		key := strings.TrimSpace(rest)
		col += len(rest) - len(strings.TrimLeft(rest, " ")) - len([]rune(rest))
		above := ""
		if tk.Prev != nil && tk.Prev.Prev != nil && tk.Prev.Type == token.MappingValueType {
			above = tk.Prev.Prev.Value
		}
		if above != "" {
			msg = fmt.Sprintf("%q is indented more than \"%s:\" above it, so YAML reads it as part of %s's value: indent it like \"%s:\"", key, above, above, above)
		} else {
			msg = fmt.Sprintf("%q is indented more than the key above it, so YAML reads it as part of that key's value: line it up with that key", key)
		}
	case msg == "value is not allowed in this context" && tk.Prev != nil && tk.Prev.Prev != nil &&
		tk.Prev.Prev.Type == token.MappingValueType && tk.Prev.Prev.Prev != nil:
		// An under-indented key after a value.
		above := tk.Prev.Prev.Prev.Value
		msg = fmt.Sprintf("%q is not lined up with \"%s:\" above it: indent it like \"%s:\"", tk.Value, above, above)
	}
	l.errorAt(line, col, rule, "%s", msg)
}

// endOf is the line and column just after a token's text.
func endOf(tk *token.Token) (line, col int) {
	line, col = tk.Position.Line, tk.Position.Column
	for _, r := range tk.Origin {
		if r == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return line, col
}
