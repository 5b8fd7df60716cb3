package reports

import (
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// colourUse finds every colour a page sets: CSS declarations (in the style
// sheet and in style attributes, including the SVG charts' inline styles)
// and SVG presentation attributes.
var colourUse = regexp.MustCompile(`(?i)(?:\b(fill|stroke|color|background-color|background|border-color|border-left-color|stop-color)\s*:\s*([^;"'}]+))|(?:\b(fill|stroke|stop-color|color)\s*=\s*"([^"]*)")`)

// cssKeywords are the non-colour values a colour property may take.
var cssKeywords = map[string]bool{"none": true, "transparent": true, "currentcolor": true, "inherit": true, "initial": true, "unset": true}

// namedColours are the CSS colour names the page may use.
var namedColours = map[string]bool{"black": true, "white": true, "red": true, "green": true, "blue": true, "gray": true, "grey": true}

var (
	hexColour  = regexp.MustCompile(`^#([0-9a-fA-F]{3}|[0-9a-fA-F]{4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})$`)
	funcColour = regexp.MustCompile(`^rgba?\(\s*([0-9.]+%?)\s*[, ]\s*([0-9.]+%?)\s*[, ]\s*([0-9.]+%?)\s*(?:[,/]\s*([0-9.]+%?)\s*)?\)$`)
	varColour  = regexp.MustCompile(`^var\(--[a-z0-9-]+\)$`)
)

// validColour reports whether v is a CSS/SVG colour value the page may use:
// #rgb, #rgba, #rrggbb, #rrggbbaa, rgb()/rgba() with components in range, a
// custom property, a few names, or a keyword. For the shorthand background
// and border properties the colour is the value's last word.
func validColour(prop, v string) bool {
	v = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "!important"))
	v = strings.TrimSpace(v)
	if prop == "background" {
		f := strings.Fields(v)
		if len(f) == 0 {
			return false
		}
		v = f[len(f)-1]
	}
	lv := strings.ToLower(v)
	switch {
	case cssKeywords[lv], namedColours[lv], hexColour.MatchString(v), varColour.MatchString(v):
		return true
	}
	m := funcColour.FindStringSubmatch(lv)
	if m == nil {
		return false
	}
	for i, c := range m[1:] {
		if c == "" {
			continue
		}
		limit := 255.0
		if strings.HasSuffix(c, "%") || i == 3 {
			limit = 100
			if i == 3 && !strings.HasSuffix(c, "%") {
				limit = 1
			}
		}
		x, err := strconv.ParseFloat(strings.TrimSuffix(c, "%"), 64)
		if err != nil || x < 0 || x > limit {
			return false
		}
	}
	return true
}

// TestHTMLColoursParse: every colour in the rendered pages (style sheet,
// inline styles, the charts' SVG) is a valid CSS colour. The charts used to
// carry fill:#-8000000000000000-8000000000000000-8000000000000000 (vgsvg
// dividing by the zero alpha of a transparent background), which browsers
// silently drop.
func TestHTMLColoursParse(t *testing.T) {
	for _, name := range goldenCases {
		t.Run(name, func(t *testing.T) {
			html := renderHTMLOf(t, filepath.Join("testdata", name))
			n := 0
			for _, m := range colourUse.FindAllStringSubmatch(html, -1) {
				prop, v := strings.ToLower(m[1]), m[2]
				if prop == "" {
					prop, v = strings.ToLower(m[3]), m[4]
				}
				n++
				if !validColour(prop, v) {
					t.Errorf("%s: invalid colour %q", prop, v)
				}
			}
			if n < 50 {
				t.Errorf("found only %d colours; the pattern misses the page's styles", n)
			}
		})
	}
	for _, bad := range []string{"#-8000000000000000-8000000000000000-8000000000000000", "#12", "rgb(300, 0, 0)", "#GGGGGG", "rgba(0,0,0,2)"} {
		if validColour("fill", bad) {
			t.Errorf("validColour accepts %q", bad)
		}
	}
}
