package notebook

import (
	"strconv"
	"strings"
)

// Table displays a Markdown table: a bold title (if not ""), then the
// header and the rows, one cell a string. A column whose cells all read as
// numbers (after any leading "±", "+" or a "**" of emphasis) is aligned
// right.
func Table(title string, header []string, rows [][]string) {
	Markdown("%s", markdownTable(title, header, rows))
}

// markdownTable returns the Markdown text that Table displays.
func markdownTable(title string, header []string, rows [][]string) string {
	var b strings.Builder
	if title != "" {
		b.WriteString("**" + title + "**\n\n")
	}
	cell := func(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
	b.WriteString("|")
	for _, h := range header {
		b.WriteString(" " + cell(h) + " |")
	}
	b.WriteString("\n|")
	for c := range header {
		numeric := len(rows) > 0
		for _, r := range rows {
			if c < len(r) && !isNumber(r[c]) {
				numeric = false
			}
		}
		if numeric {
			b.WriteString("---:|")
		} else {
			b.WriteString("---|")
		}
	}
	b.WriteString("\n")
	for _, r := range rows {
		b.WriteString("|")
		for c := range header {
			v := ""
			if c < len(r) {
				v = r[c]
			}
			b.WriteString(" " + cell(v) + " |")
		}
		b.WriteString("\n")
	}
	return b.String()
}

// isNumber says whether s reads as a number: "0.93", "+0.01", "1e-06",
// "93.1%", "0.912 ± 0.004", "**0.95**".
func isNumber(s string) bool {
	s = strings.Trim(strings.TrimSpace(s), "*")
	first, _, _ := strings.Cut(s, " ± ")
	first = strings.TrimSuffix(strings.TrimSpace(first), "%")
	_, err := strconv.ParseFloat(first, 64)
	return err == nil
}
