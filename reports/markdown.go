package reports

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"text/template"
	"text/template/parse"
)

// mdTemplate is the Markdown pull-request comment, parsed once. Every value
// it prints goes through markdownText (added to each action by
// escapeActions, as html/template does for HTML), so no name from the data
// or the spec can add Markdown or HTML to the comment.
var mdTemplate = escapeActions(template.Must(template.New("report.md.tmpl").Funcs(template.FuncMap{
	"lower":          strings.ToLower,
	markdownTextFunc: markdownText,
}).ParseFS(assets, "assets/report.md.tmpl")))

const markdownTextFunc = "_markdownText"

// escapeActions appends markdownText to the pipeline of every action that
// prints (not to if/range/with conditions, nor to variable declarations),
// in every template of t.
func escapeActions(t *template.Template) *template.Template {
	var tree *parse.Tree
	var walk func(n parse.Node)
	walk = func(n parse.Node) {
		switch n := n.(type) {
		case *parse.ListNode:
			if n == nil {
				return
			}
			for _, c := range n.Nodes {
				walk(c)
			}
		case *parse.ActionNode:
			if len(n.Pipe.Decl) == 0 {
				n.Pipe.Cmds = append(n.Pipe.Cmds, &parse.CommandNode{NodeType: parse.NodeCommand, Pos: n.Pos,
					Args: []parse.Node{parse.NewIdentifier(markdownTextFunc).SetTree(tree).SetPos(n.Pos)}})
			}
		case *parse.IfNode:
			walk(n.List)
			walk(n.ElseList)
		case *parse.RangeNode:
			walk(n.List)
			walk(n.ElseList)
		case *parse.WithNode:
			walk(n.List)
			walk(n.ElseList)
		}
	}
	for _, tt := range t.Templates() {
		if tt.Tree != nil {
			tree = tt.Tree
			walk(tt.Tree.Root)
		}
	}
	return t
}

// markdownText prints v as inert Markdown inline text (CommonMark with the
// GitHub extensions):
//
//   - every run of white space (line breaks included) becomes one space, so
//     a value cannot start a block (heading, list, table, quote, HTML);
//   - the characters that open inline constructs are backslash-escaped
//     where they could (needsEscape): \ ` * _ [ ] < > | ~ & $ @, the colon
//     of "://" and the dot of "www." (links, images, code, emphasis, raw
//     HTML, autolinks, table cells, strikethrough, entities, math, bare URLs
//     and e-mail addresses);
//   - a value starting with what would start a block at the beginning of a
//     line (#, a - + = not followed by a digit, "1." or "1)") has that
//     character escaped too, since some values begin a line.
//
// Backslash escapes render as the character itself, so the text reads the
// same.
func markdownText(v any) string {
	s := strings.Join(strings.Fields(fmt.Sprint(v)), " ")
	var b strings.Builder
	b.Grow(len(s) + 8)
	lead := leadingMarker(s)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if i == lead || needsEscape(s, i) {
			b.WriteByte('\\')
		}
		b.WriteByte(c)
	}
	return b.String()
}

// needsEscape reports whether s[i] could open or close a Markdown inline
// construct. Characters that only do so in some places are escaped only
// there, so ordinary text stays readable: _ only at a word boundary
// (intraword underscores never emphasise), < only before a non-space (tags
// and autolinks start "<x"), & only before an entity's letter or #, : only
// in "://", . only in "www.".
func needsEscape(s string, i int) bool {
	at := func(j int) byte {
		if j < 0 || j >= len(s) {
			return ' '
		}
		return s[j]
	}
	switch c := s[i]; c {
	case '\\', '`', '*', '[', ']', '>', '|', '~', '$', '@':
		return true
	case '_':
		return !isWordByte(at(i-1)) || !isWordByte(at(i+1))
	case '<':
		return at(i+1) != ' '
	case '&':
		return isWordByte(at(i+1)) || at(i+1) == '#'
	case ':':
		return at(i+1) == '/' && at(i+2) == '/'
	case '.':
		return i >= 3 && strings.EqualFold(s[i-3:i], "www")
	}
	return false
}

func isWordByte(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

// leadingMarker returns the index of the character that would make s start
// a block when it begins a line, or -1.
func leadingMarker(s string) int {
	if s == "" {
		return -1
	}
	switch s[0] {
	case '#':
		return 0
	case '-', '+', '=':
		if len(s) == 1 || s[1] < '0' || s[1] > '9' {
			return 0
		}
		return -1
	}
	i := 0
	for i < len(s) && i < 10 && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i > 0 && i < len(s) && (s[i] == '.' || s[i] == ')') && (i+1 == len(s) || s[i+1] == ' ') {
		return i
	}
	return -1
}

// RenderMarkdown writes the report as GitHub-flavoured Markdown for a
// pull-request comment: the decision, the metric tables and the health
// checks. It renders into a buffer first, so w receives all or nothing.
func RenderMarkdown(w io.Writer, r *Report) error {
	p, err := buildPage(r, false)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := mdTemplate.ExecuteTemplate(&buf, "report", p); err != nil {
		return fmt.Errorf("render Markdown report: %w", err)
	}
	_, err = buf.WriteTo(w)
	return err
}
