// Package zoomtest is an in-process fake of Zoom's Server-to-Server OAuth
// and Dashboard metrics API, for tests, the demo, the benchmarks and the
// capacity simulator.
//
// A Scenario is one webinar or meeting: who joins and leaves when, who
// degrades how and when. QoS values are computed from the scenario, the
// participant and the minute (a hash, no stored samples), so a
// 10,000-participant, two-hour webinar costs only its participant list.
// Truth says what was degraded, for scoring alerts.
package zoomtest

import (
	"fmt"
	"sort"
	"strconv"
	"sync"
	"time"
)

// Kind is a webinar or a meeting.
type Kind string

const (
	Webinar Kind = "webinar"
	Meeting Kind = "meeting"
)

// Impairment is a way a participant's quality degrades.
type Impairment string

const (
	AudioLoss          Impairment = "audio_loss"           // audio_input avg_loss 5-12 %, max_loss 15-30 %
	HighLatency        Impairment = "latency"              // every stream 300-600 ms, jitter 40-80 ms
	FrozenVideo        Impairment = "frozen_video"         // video frame_rate "0 fps", bitrate collapses
	ScreenShareStutter Impairment = "screen_share_stutter" // screen share 0-2 fps, loss 8-15 %
	CPUHog             Impairment = "cpu_hog"              // zoom cpu 85-99 %, system 100 %
	WeakWiFi           Impairment = "weak_wifi"            // rssi -80..-90 dBm, loss 3-6 %, jitter 30-50 ms

	// ReceivedAudioLoss is what an attendee gets from a presenter whose
	// uplink breaks up (AudioLoss on the presenter): audio_output avg_loss
	// 5-12 %. Give it by hand, with the presenter's: Generate never draws it.
	ReceivedAudioLoss Impairment = "received_audio_loss"
)

// Impairments lists the impairments of a participant's own connection
// (every Impairment but ReceivedAudioLoss), in a fixed order: what
// Generate draws from.
var Impairments = []Impairment{AudioLoss, HighLatency, FrozenVideo, ScreenShareStutter, CPUHog, WeakWiFi}

// allImpairments is every Impairment: the bits of an impSet.
var allImpairments = append(Impairments[:len(Impairments):len(Impairments)], ReceivedAudioLoss)

// Degradation is one impairment over [From, To), measured from the
// scenario's start. Minutes whose start falls in the range are bad.
type Degradation struct {
	Kind     Impairment
	From, To time.Duration
}

// Participant is one person in a scenario. Blank descriptive fields get
// plausible defaults when the scenario is first used; UserID must be
// unique within the scenario (a default is assigned when blank).
type Participant struct {
	UserID      string // Zoom's per-meeting user_id; the participant's key
	ID          string // Zoom user id; blank for guests
	UserName    string
	Email       string
	Role        string // host | panelist | attendee (meetings: host | attendee)
	Device      string // Windows | Mac | iOS | Android | Phone | H.323/SIP
	Version     string
	IPAddress   string
	Location    string
	NetworkType string // Wired | Wifi | PPP | Cellular | Others
	DataCenter  string
	PCName      string
	Domain      string

	// Join and Leave are offsets from the scenario's start. Leave 0 means
	// the participant stays to the end.
	Join, Leave time.Duration

	AudioOnly    bool // no video at all: every video field is ""
	SharesScreen bool // sends screen share (as_input)

	Degradations []Degradation

	seed      uint64 // per-participant hash seed, set by init
	idx       int    // position in Scenario.Participants
	joinStamp string // join_time, formatted once
}

// Scenario is one webinar or meeting and its participants. Build it by
// hand or with Generate. Once handed to a Server or used, treat it as
// read-only (EndAt on the Server changes the end at run time).
type Scenario struct {
	Kind      Kind
	ID        int64  // the webinar or meeting number
	UUID      string // the instance's UUID; defaults to a base64-like string from ID
	Topic     string
	Host      string // host name
	HostEmail string
	Start     time.Time     // truncated to the minute
	Duration  time.Duration // the source ends at Start+Duration; 0 = runs until ended
	Seed      int64         // varies the healthy noise

	// Quirks makes some values use Zoom's other spellings: "27.15kbps",
	// "1.06 Mbps", "0ms", and "-" for an unmeasured jitter (about 5%).
	Quirks bool

	Participants []*Participant

	once   sync.Once
	order  []*Participant // sorted by Join, then index: the paging order
	byUser map[string]*Participant
	stamps []string // date_time of each minute, formatted once
}

// End returns when the scenario ends (zero when it runs until ended).
func (sc *Scenario) End() time.Time {
	if sc.Duration <= 0 {
		return time.Time{}
	}
	return sc.start().Add(sc.Duration)
}

func (sc *Scenario) start() time.Time { return sc.Start.UTC().Truncate(time.Minute) }

// init fills defaults and builds the paging order. It runs once.
func (sc *Scenario) init() {
	sc.once.Do(func() {
		if sc.Kind == "" {
			sc.Kind = Webinar
		}
		if sc.ID == 0 {
			sc.ID = defaultID(sc.Seed)
		}
		if sc.UUID == "" {
			sc.UUID = fakeUUID(uint64(sc.ID) ^ uint64(sc.Seed))
		}
		if sc.Topic == "" {
			sc.Topic = fmt.Sprintf("Fake %s %d", sc.Kind, sc.ID)
		}
		mins := max(sc.Duration, 6*time.Hour) / time.Minute
		sc.stamps = make([]string, mins+1)
		for k := range sc.stamps {
			sc.stamps[k] = stamp(sc.start().Add(time.Duration(k) * time.Minute))
		}
		sc.byUser = make(map[string]*Participant, len(sc.Participants))
		sc.order = make([]*Participant, len(sc.Participants))
		for i, p := range sc.Participants {
			p.idx = i
			p.seed = mix(uint64(sc.Seed)*0x9E3779B97F4A7C15 ^ uint64(i+1))
			fillDefaults(sc, p, i)
			p.joinStamp = sc.stamp(p.Join)
			if sc.Host == "" && p.Role == "host" {
				sc.Host, sc.HostEmail = p.UserName, p.Email
			}
			sc.byUser[p.UserID] = p
			sc.order[i] = p
		}
		if sc.Host == "" {
			sc.Host = "Fake Host"
		}
		sort.SliceStable(sc.order, func(a, b int) bool { return sc.order[a].Join < sc.order[b].Join })
	})
}

func fillDefaults(sc *Scenario, p *Participant, i int) {
	h := p.seed
	if p.UserID == "" {
		p.UserID = strconv.Itoa(16778240 + i)
	}
	if p.UserName == "" {
		p.UserName = fmt.Sprintf("Participant %d", i+1)
	}
	if p.Role == "" {
		p.Role = "attendee"
	}
	if sc.Kind == Meeting && p.Role == "panelist" {
		p.Role = "attendee" // meetings have no panelists
	}
	if p.Device == "" {
		p.Device = devices[h%uint64(len(devices))]
	}
	if p.Version == "" {
		p.Version = versions[(h>>8)%uint64(len(versions))]
	}
	if p.IPAddress == "" {
		p.IPAddress = fmt.Sprintf("198.51.%d.%d", (i/250)%256, i%250+1)
	}
	if p.Location == "" {
		p.Location = locations[(h>>16)%uint64(len(locations))]
	}
	if p.NetworkType == "" {
		p.NetworkType = networks[(h>>24)%uint64(len(networks))]
		if p.hasImpairment(WeakWiFi) {
			p.NetworkType = "Wifi"
		}
	}
	if p.DataCenter == "" {
		p.DataCenter = dataCenters[(h>>32)%uint64(len(dataCenters))]
	}
	if p.PCName == "" {
		p.PCName = fmt.Sprintf("%s's %s", p.UserName, p.Device)
	}
	if p.Domain == "" {
		p.Domain = fmt.Sprintf("host-%d", i+1)
	}
}

var (
	devices     = []string{"Windows", "Mac", "Windows", "Mac", "iOS", "Android"}
	versions    = []string{"6.2.5.52556", "6.3.0.53805", "6.1.11.50011", "5.17.11.34827"}
	locations   = []string{"San Jose (US)", "New York (US)", "London (GB)", "Frankfurt (DE)", "Sydney (AU)", "Tokyo (JP)", "São Paulo (BR)"}
	networks    = []string{"Wired", "Wifi", "Wifi", "Cellular", "Wired", "Wifi"}
	dataCenters = []string{"US (SC Crc)", "US (NY Crc)", "EU (AMS Crc)", "AP (SYD Crc)"}
)

func (p *Participant) hasImpairment(k Impairment) bool {
	for _, d := range p.Degradations {
		if d.Kind == k {
			return true
		}
	}
	return false
}

// sendsVideo says whether the participant sends video (video_input).
// Webinar attendees cannot; they only receive.
func (p *Participant) sendsVideo(k Kind) bool {
	if p.AudioOnly {
		return false
	}
	return k == Meeting || p.Role == "host" || p.Role == "panelist"
}

// Participant returns the participant with this user_id, or nil. Zoom's
// participantId path parameter is the user_id: a logged-in user's id is
// not found there.
func (sc *Scenario) Participant(userID string) *Participant {
	sc.init()
	return sc.byUser[userID]
}

// joinedBy returns the participants who joined at or before offset, in
// paging order.
func (sc *Scenario) joinedBy(offset time.Duration) []*Participant {
	n := sort.Search(len(sc.order), func(i int) bool { return sc.order[i].Join > offset })
	return sc.order[:n]
}

// present says whether p is in the source at the minute starting at off.
func (p *Participant) present(off time.Duration) bool {
	return off >= p.Join && (p.Leave <= 0 || off < p.Leave)
}

// active returns the impairments active in the minute starting at off.
func (p *Participant) active(off time.Duration) (set impSet) {
	for _, d := range p.Degradations {
		if off >= d.From && off < d.To {
			set |= 1 << impIndex(d.Kind)
		}
	}
	return set
}

type impSet uint8

func (s impSet) has(k Impairment) bool { return s&(1<<impIndex(k)) != 0 }

func impIndex(k Impairment) uint {
	for i, x := range allImpairments {
		if x == k {
			return uint(i)
		}
	}
	return 7 // never set
}

// defaultID is an 11-digit webinar/meeting number derived from a seed.
func defaultID(seed int64) int64 { return 81000000000 + int64(mix(uint64(seed))%1000000000) }

// fakeUUID makes a 24-character base64-like UUID, like Zoom's
// "4444AAAiAAAAAiAiAiiAii==".
func fakeUUID(h uint64) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	b := make([]byte, 24)
	for i := 0; i < 22; i++ {
		h = mix(h + uint64(i))
		b[i] = alphabet[h%64]
	}
	b[22], b[23] = '=', '='
	return string(b)
}

// mix is splitmix64's finalizer: a fast, well-spread hash of one word.
func mix(x uint64) uint64 {
	x += 0x9E3779B97F4A7C15
	x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9
	x = (x ^ (x >> 27)) * 0x94D049BB133111EB
	return x ^ (x >> 31)
}
