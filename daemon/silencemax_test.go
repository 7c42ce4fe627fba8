package daemon

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	qoswatch "github.com/qoswatch/qoswatch"
	"github.com/qoswatch/qoswatch/engine"
	"github.com/qoswatch/qoswatch/notifier"
)

// TestSilenceMaxDurationIsASetting: a silence ending a year from now is
// refused by default (30 days) and accepted once the operator raises
// QOSWATCH_SILENCE_MAX_DURATION: raising it is the explicit intent.
func TestSilenceMaxDurationIsASetting(t *testing.T) {
	yearLong := engine.Silence{
		Matchers: []engine.Matcher{{Name: "rule", Value: ".*", IsRegex: true}},
		EndsAt:   time.Now().Add(365 * 24 * time.Hour), CreatedBy: "ops", Comment: "maintenance",
	}
	for _, tc := range []struct {
		max  time.Duration
		want bool
	}{{Defaults().SilenceMax, false}, {400 * 24 * time.Hour, true}} {
		dir := t.TempDir()
		rules := filepath.Join(dir, "rules.yaml")
		writeFile(t, rules, qoswatch.ExampleRules)
		c, err := newCore(coreConfig{
			rules: rules, db: filepath.Join(dir, "db"), staleAfter: 5 * time.Minute, silenceMax: tc.max,
			clock: engine.SystemClock{}, reg: newRegistry("test", "go"), sender: notifier.NewConsole(io.Discard),
			log: slog.New(slog.DiscardHandler),
		})
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.eng.AddSilence(context.Background(), yearLong)
		c.db.Close()
		if got := err == nil; got != tc.want {
			t.Errorf("max %s: a year-long silence accepted=%v (err %v), want %v", tc.max, got, err, tc.want)
		}
		if err != nil && !errors.Is(err, engine.ErrInvalidSilence) {
			t.Errorf("max %s: refused with %v, want ErrInvalidSilence", tc.max, err)
		}
	}
}
