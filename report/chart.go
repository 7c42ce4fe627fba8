package report

import (
	"bytes"
	"fmt"
	"image/color"
	"io"
	"math"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// The chart's size in pixels (PNG at 96 dpi: vg's inch is 96 px here).
const (
	ChartWidth  = 1200
	ChartHeight = 600
)

// dpi is the resolution the PNG is drawn at.
const dpi = 96

// ChartPNG draws the chart: per minute, the percent of the participants
// seen on whom each rule's `when` held (one line per rule in the report),
// with the minutes in which alerts of the rule started firing (▲, filled) and
// resolved (○) marked on its line.
func (r *Report) ChartPNG() ([]byte, error) {
	p := plot.New()
	p.Title.Text = "Participants degraded per minute: " + r.Title()
	p.Title.Padding = vg.Points(8)
	p.X.Label.Text = "UTC"
	p.Y.Label.Text = "% of participants seen"
	p.Y.Min, p.Y.Max = 0, 5 // grows with the data; a quiet webinar stays a flat line near 0
	p.X.Tick.Marker = minuteTicks{start: r.From}
	p.Legend.Top = true
	p.Add(plotter.NewGrid())

	span := math.Max(1, r.To.Sub(r.From).Minutes())
	p.X.Min, p.X.Max = 0, span
	for i, s := range r.Rules {
		c := plotutil.Color(i)
		var line, started, ended plotter.XYs
		for j := range r.Minutes {
			m := &r.Minutes[j]
			if m.Seen == 0 {
				continue
			}
			x := m.Minute.Sub(r.From).Minutes()
			y := 0.0
			rm := m.Rules[s.Name]
			if rm != nil {
				y = 100 * share(rm.Degraded, m.Seen)
			}
			line = append(line, plotter.XY{X: x, Y: y})
			p.Y.Max = math.Max(p.Y.Max, y*1.1)
			if rm != nil && len(rm.Started) > 0 {
				started = append(started, plotter.XY{X: x, Y: y})
			}
			if rm != nil && rm.Ended > 0 {
				ended = append(ended, plotter.XY{X: x, Y: y})
			}
		}
		if len(line) == 0 {
			continue
		}
		l, err := plotter.NewLine(line)
		if err != nil {
			return nil, fmt.Errorf("chart of %s: rule %s: %w", r.Source, s.Name, err)
		}
		l.Color, l.Width = c, vg.Points(2)
		p.Add(l)
		p.Legend.Add(s.Name, l)
		for _, mk := range []struct {
			xys   plotter.XYs
			shape draw.GlyphDrawer
		}{{started, draw.PyramidGlyph{}}, {ended, draw.RingGlyph{}}} {
			if len(mk.xys) == 0 {
				continue
			}
			sc, err := plotter.NewScatter(mk.xys)
			if err != nil {
				return nil, fmt.Errorf("chart of %s: rule %s: %w", r.Source, s.Name, err)
			}
			sc.Color, sc.Shape, sc.Radius = c, mk.shape, vg.Points(6)
			p.Add(sc)
		}
	}
	p.Y.Max = math.Min(p.Y.Max, 100)
	// The markers' meaning, once, in grey.
	for _, k := range []struct {
		what  string
		shape draw.GlyphDrawer
	}{{"alerts started", draw.PyramidGlyph{}}, {"alerts resolved", draw.RingGlyph{}}} {
		sc, err := plotter.NewScatter(plotter.XYs{})
		if err != nil {
			return nil, err
		}
		sc.Color, sc.Shape, sc.Radius = color.Gray{Y: 90}, k.shape, vg.Points(5)
		p.Legend.Add(k.what, sc)
	}
	w, err := p.WriterTo(vg.Length(ChartWidth)*vg.Inch/dpi, vg.Length(ChartHeight)*vg.Inch/dpi, "png")
	if err != nil {
		return nil, fmt.Errorf("chart of %s: %w", r.Source, err)
	}
	var buf bytes.Buffer
	if _, err := w.WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("chart of %s: %w", r.Source, err)
	}
	return buf.Bytes(), nil
}

// WriteChart writes the chart's PNG to w.
func (r *Report) WriteChart(w io.Writer) error {
	b, err := r.ChartPNG()
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// minuteTicks labels the x axis (minutes since start) with clock times,
// on whole minutes, at most about ten labels.
type minuteTicks struct{ start time.Time }

func (t minuteTicks) Ticks(lo, hi float64) []plot.Tick {
	step := 1.0
	for _, s := range []float64{1, 2, 5, 10, 15, 30, 60, 120, 240, 480} {
		step = s
		if (hi-lo)/s <= 10 {
			break
		}
	}
	var ticks []plot.Tick
	for v := math.Ceil(lo/step) * step; v <= hi; v += step {
		ticks = append(ticks, plot.Tick{Value: v, Label: t.start.Add(time.Duration(v) * time.Minute).UTC().Format("15:04")})
	}
	return ticks
}
