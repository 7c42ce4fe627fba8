package zoomtest

import (
	"fmt"
	"math"
	"strconv"
	"time"
)

// Gen describes a scenario to generate. Generate is deterministic: the
// same Gen gives the same scenario, samples and truth.
type Gen struct {
	Kind         Kind          // Webinar (default) or Meeting
	ID           int64         // default derived from Seed
	Topic        string        // default "Fake webinar <id>"
	Start        time.Time     // default 2026-01-05T15:00:00Z; truncated to the minute
	Duration     time.Duration // default 1h; the source ends then
	Participants int           // everyone, the host included
	Panelists    int           // webinars only; default min(4, Participants-1); -1 for none
	Degraded     float64       // share of participants who degrade once (0.02 = 2%)
	AudioOnly    float64       // share of attendees without video
	Guests       float64       // share of attendees with a blank id
	Churn        float64       // share of attendees who join late or leave early
	Kinds        []Impairment  // the impairments to pick from; default all
	MinBad       time.Duration // shortest degradation; default 3m
	MaxBad       time.Duration // longest degradation; default 12m
	Quirks       bool          // see Scenario.Quirks
	Seed         int64
}

// DefaultStart is the start of a generated scenario when Gen.Start is zero.
var DefaultStart = time.Date(2026, 1, 5, 15, 0, 0, 0, time.UTC)

// Generate builds a scenario: a host who shares the screen, panelists,
// attendees who join in the first five minutes (some later, some leaving
// early), and round(Degraded × Participants) participants with one
// degradation each, placed where they are present.
func Generate(g Gen) *Scenario {
	if g.Kind == "" {
		g.Kind = Webinar
	}
	if g.Start.IsZero() {
		g.Start = DefaultStart
	}
	if g.Duration <= 0 {
		g.Duration = time.Hour
	}
	if g.Panelists == 0 {
		g.Panelists = min(4, g.Participants-1)
	}
	if g.Kind == Meeting || g.Panelists < 0 {
		g.Panelists = 0
	}
	if g.ID == 0 {
		g.ID = defaultID(g.Seed)
	}
	if len(g.Kinds) == 0 {
		g.Kinds = Impairments
	}
	if g.MinBad <= 0 {
		g.MinBad = 3 * time.Minute
	}
	if g.MaxBad < g.MinBad {
		g.MaxBad = max(g.MinBad, 12*time.Minute)
	}
	sc := &Scenario{Kind: g.Kind, ID: g.ID, Topic: g.Topic, Start: g.Start.UTC().Truncate(time.Minute), Duration: g.Duration, Seed: g.Seed, Quirks: g.Quirks}
	sc.Participants = make([]*Participant, g.Participants)
	mins := int(g.Duration / time.Minute)
	for i := range sc.Participants {
		r := rng(mix(uint64(g.Seed)<<32 ^ uint64(i)))
		p := &Participant{UserID: strconv.Itoa(16778240 + i), Role: "attendee"}
		switch {
		case i == 0:
			p.Role, p.SharesScreen = "host", true
			p.UserName, p.Email, p.ID = "Hana Host", "host@example.com", "hostUserId0"
		case i <= g.Panelists:
			p.Role = "panelist"
			p.UserName, p.Email, p.ID = fmt.Sprintf("Panelist %d", i), fmt.Sprintf("panelist%d@example.com", i), fmt.Sprintf("panelistId%d", i)
		default:
			p.UserName, p.Email, p.ID = fmt.Sprintf("Attendee %d", i), fmt.Sprintf("attendee%d@example.com", i), fmt.Sprintf("attendeeId%d", i)
			if r.between(0, 1) < g.Guests {
				p.ID, p.Email, p.UserName = "", "", fmt.Sprintf("Guest %d", i)
			}
			p.AudioOnly = r.between(0, 1) < g.AudioOnly
			p.Join = time.Duration(r.intn(0, min(5, mins-1)*60)) * time.Second
			if r.between(0, 1) < g.Churn {
				if r.next()%2 == 0 {
					p.Join = time.Duration(r.intn(5*60, max(5*60, mins*60/2))) * time.Second
				} else {
					p.Leave = time.Duration(r.intn(mins*60/2, mins*60-60)) * time.Second
				}
			}
		}
		sc.Participants[i] = p
	}
	degrade(sc, g, mins)
	return sc
}

// degrade picks round(Degraded × N) participants, spread evenly by a
// seeded shuffle, and gives each one degradation inside its presence.
func degrade(sc *Scenario, g Gen, mins int) {
	n := len(sc.Participants)
	want := int(math.Round(g.Degraded * float64(n)))
	if want <= 0 || n == 0 {
		return
	}
	perm := make([]int, n)
	for i := range perm {
		perm[i] = i
	}
	r := rng(mix(uint64(g.Seed) ^ 0xD1B54A32D192ED03))
	for i := n - 1; i > 0; i-- { // Fisher-Yates
		j := int(r.next() % uint64(i+1))
		perm[i], perm[j] = perm[j], perm[i]
	}
	for _, i := range perm[:min(want, n)] {
		p := sc.Participants[i]
		kind := g.Kinds[r.next()%uint64(len(g.Kinds))]
		if p.AudioOnly && (kind == FrozenVideo || kind == ScreenShareStutter) {
			kind = AudioLoss // nothing to freeze
		}
		from := p.Join.Truncate(time.Minute) + time.Minute
		to := time.Duration(mins) * time.Minute
		if p.Leave > 0 {
			to = p.Leave.Truncate(time.Minute)
		}
		length := time.Duration(r.intn(int(g.MinBad/time.Minute), int(g.MaxBad/time.Minute))) * time.Minute
		if span := to - from; span > length {
			from += time.Duration(r.intn(0, int((span-length)/time.Minute))) * time.Minute
		}
		p.Degradations = []Degradation{{Kind: kind, From: from, To: min(from+length, to)}}
	}
}
