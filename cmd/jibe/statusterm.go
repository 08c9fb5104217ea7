package main

import (
	"io"
	"os"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/term"
)

// defaultWidth is the width of output that is not a terminal when
// COLUMNS does not say.
const defaultWidth = 80

// terminal says how to draw on an output: how wide it is, whether it is
// a terminal (redrawn in place by --watch) and whether it takes colour.
type terminal struct {
	width int
	tty   bool
	color bool
}

// terminalOf describes w: a terminal's own width, else COLUMNS, else 80;
// colour only on a terminal, and never with NO_COLOR or TERM=dumb.
func terminalOf(w io.Writer) terminal {
	t := terminal{width: defaultWidth}
	if n, err := strconv.Atoi(os.Getenv("COLUMNS")); err == nil && n > 0 {
		t.width = n
	}
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return t
	}
	t.tty = true
	if w, _, err := term.GetSize(int(f.Fd())); err == nil && w > 0 {
		t.width = w
	}
	t.color = os.Getenv("NO_COLOR") == "" && os.Getenv("TERM") != "dumb"
	return t
}

// ANSI colours of states.
const (
	ansiReset  = "\x1b[0m"
	ansiRed    = "\x1b[31m"
	ansiGreen  = "\x1b[32m"
	ansiYellow = "\x1b[33m"
	ansiCyan   = "\x1b[36m"
	ansiDim    = "\x1b[2m"
	ansiBold   = "\x1b[1m"
)

// stateColor is the colour of a state of an application, an environment
// or a step.
func stateColor(state string) string {
	switch state {
	case "succeeded", "done", "ok":
		return ansiGreen
	case "running", "current":
		return ansiCyan
	case "pending":
		return ansiYellow
	case "failed", "rolled-back", "error", "failing":
		return ansiRed
	case "superseded":
		return ansiDim
	}
	return ""
}

// paint wraps s in colour c when the terminal takes colour.
func (t terminal) paint(c, s string) string {
	if !t.color || c == "" || s == "" {
		return s
	}
	return c + s + ansiReset
}

// cell is one cell of a table: its text and its colour.
type cell struct {
	text  string
	color string
}

// table is rows of cells under a header, drawn in columns that fit a
// width. A row may have a line of its own under it (what a rollout in
// progress does and waits for), indented to the second column.
type table struct {
	header []string
	rows   []row
	// shrink lists the columns that may be cut to fit, first cut first;
	// minimum is the least width each keeps. Columns that still do not
	// fit are left out from the last one.
	shrink  []int
	minimum int
}

// row is a table's row and the line under it ("" for none).
type row struct {
	cells []cell
	under []cell
}

// add appends a row.
func (tb *table) add(cells ...cell) { tb.rows = append(tb.rows, row{cells: cells}) }

// addUnder sets the line under the last row, made of cells separated by
// two spaces.
func (tb *table) addUnder(cells ...cell) {
	if n := len(tb.rows); n > 0 {
		tb.rows[n-1].under = cells
	}
}

// plain makes cells without colour.
func plain(texts ...string) []cell {
	cells := make([]cell, len(texts))
	for i, s := range texts {
		cells[i] = cell{text: s}
	}
	return cells
}

// columnGap separates columns.
const columnGap = "  "

// render draws the table within width (no limit when width is 0),
// cutting the shrinkable columns' cells with "…".
func (tb *table) render(t terminal, width int) string {
	widths := tb.widths()
	shown := len(widths)
	if width > 0 {
		shown = fit(widths, tb.shrink, tb.minimum, width)
	}
	var b strings.Builder
	line := func(cells []cell, header bool) {
		var l strings.Builder
		for i, c := range cells[:min(shown, len(cells))] {
			text := cut(c.text, widths[i])
			color := c.color
			if header {
				color = ansiBold
			}
			l.WriteString(t.paint(color, text))
			if i < shown-1 {
				l.WriteString(strings.Repeat(" ", widths[i]-runeLen(text)) + columnGap)
			}
		}
		b.WriteString(strings.TrimRight(l.String(), " ") + "\n")
	}
	line(plain(tb.header...), true)
	indent := 0
	if len(widths) > 1 {
		indent = widths[0] + len(columnGap)
	}
	for _, r := range tb.rows {
		line(r.cells, false)
		if under := t.join(r.under, columnGap, width-indent); under != "" {
			b.WriteString(strings.Repeat(" ", indent) + under + "\n")
		}
	}
	return b.String()
}

// join draws the non-empty cells separated by sep, cut to width when it
// is positive.
func (t terminal) join(cells []cell, sep string, width int) string {
	var parts []string
	left := width
	for _, c := range cells {
		if c.text == "" {
			continue
		}
		text := c.text
		if width > 0 {
			if len(parts) > 0 {
				left -= runeLen(sep)
			}
			if left < 1 {
				break
			}
			text = cut(text, left)
			left -= runeLen(text)
		}
		parts = append(parts, t.paint(c.color, text))
	}
	return strings.Join(parts, sep)
}

// widths are each column's natural width: its widest cell.
func (tb *table) widths() []int {
	widths := make([]int, len(tb.header))
	for i, h := range tb.header {
		widths[i] = runeLen(h)
	}
	for _, r := range tb.rows {
		for i, c := range r.cells {
			widths[i] = max(widths[i], runeLen(c.text))
		}
	}
	return widths
}

// fit cuts the shrinkable columns, in order, until the line fits width,
// and returns how many columns fit.
func fit(widths, shrink []int, minimum, width int) int {
	total := len(columnGap) * (len(widths) - 1)
	for _, w := range widths {
		total += w
	}
	for _, i := range shrink {
		if total <= width {
			break
		}
		cut := min(total-width, max(widths[i]-minimum, 0))
		widths[i] -= cut
		total -= cut
	}
	shown := len(widths)
	for shown > 1 && total > width {
		shown--
		total -= widths[shown] + len(columnGap)
	}
	return shown
}

// cut shortens s to width runes, ending with "…" when it cut.
func cut(s string, width int) string {
	if runeLen(s) <= width {
		return s
	}
	if width <= 1 {
		return strings.Repeat("…", max(width, 0))
	}
	r := []rune(s)
	return string(r[:width-1]) + "…"
}

func runeLen(s string) int { return utf8.RuneCountInString(s) }
