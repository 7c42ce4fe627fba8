package daemon

import (
	"bytes"
	"os"
	"sync"
	"testing"

	"github.com/qoswatch/qoswatch/zoom/zoomtest"
)

// zoomConfig points the daemon at a fake Zoom account (Business limits).
func zoomConfig(fake *zoomtest.Server) ZoomConfig {
	return ZoomConfig{AccountID: fake.AccountID, ClientID: fake.ClientID, ClientSecret: Secret(fake.ClientSecret),
		APIURL: fake.APIURL(), OAuthURL: fake.TokenURL(), Plan: "business"}
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// syncBuffer is a bytes.Buffer safe for the goroutines that log.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
