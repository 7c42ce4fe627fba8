package fakeslack

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/slack-go/slack"
)

// The v2 upload answers as Slack documents it, through the real slack-go
// client: a file shared in a parent's thread keeps its bytes; a zero
// length is missing_argument; a reply's ts or an unknown file is refused.
func TestFilesUploadV2(t *testing.T) {
	s := New(t, nil)
	api := slack.New("xoxb-files", slack.OptionAPIURL(s.APIURL()))
	ctx := context.Background()
	ch, parent, err := api.PostMessageContext(ctx, "#reports", slack.MsgOptionText("summary", false))
	if err != nil {
		t.Fatal(err)
	}
	_, reply, err := api.PostMessageContext(ctx, ch, slack.MsgOptionText("a reply", false), slack.MsgOptionTS(parent))
	if err != nil {
		t.Fatal(err)
	}
	content := []byte("\x89PNG fake chart bytes")
	f, err := api.UploadFileContext(ctx, slack.UploadFileParameters{Filename: "chart.png", Title: "Chart", FileSize: len(content),
		Reader: bytes.NewReader(content), Channel: ch, ThreadTimestamp: parent})
	if err != nil {
		t.Fatal(err)
	}
	ups := s.Uploads()
	if len(ups) != 1 || ups[0].ID != f.ID || ups[0].Title != "Chart" || ups[0].Channel != ch || ups[0].ThreadTS != parent ||
		!bytes.Equal(ups[0].Content, content) || ups[0].Length != len(content) {
		t.Fatalf("uploads %+v", ups)
	}
	if !s.SawToken("xoxb-files") {
		t.Error("no token seen")
	}

	var se slack.SlackErrorResponse
	if _, err := api.GetUploadURLExternalContext(ctx, slack.GetUploadURLExternalParameters{FileName: "x.png", FileSize: -1}); !errors.As(err, &se) || se.Err != "missing_argument" {
		t.Errorf("length -1: %v", err)
	}
	_, err = api.UploadFileContext(ctx, slack.UploadFileParameters{Filename: "x.png", FileSize: 3, Reader: strings.NewReader("abc"), Channel: ch, ThreadTimestamp: reply})
	if !errors.As(err, &se) || se.Err != "thread_not_found" {
		t.Errorf("a reply's ts as the thread: %v", err)
	}
	_, err = api.CompleteUploadExternalContext(ctx, slack.CompleteUploadExternalParameters{Files: []slack.FileSummary{{ID: "F404"}}, Channel: ch})
	if !errors.As(err, &se) || se.Err != "file_not_found" {
		t.Errorf("an unknown file: %v", err)
	}
	if n := len(s.Uploads()); n != 1 {
		t.Errorf("%d files shared, want only the first", n)
	}
}
