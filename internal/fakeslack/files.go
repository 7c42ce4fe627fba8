package fakeslack

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Slack's files upload, version 2 (files.upload is retired): three
// steps, as Slack documents them.
//  1. files.getUploadURLExternal (filename, length in bytes; both
//     required, missing_argument when length is 0) answers an upload_url
//     and a file_id.
//  2. The file's bytes are POSTed to upload_url, raw or multipart form
//     encoded; Slack answers 200.
//  3. files.completeUploadExternal (files: a JSON array of {id, title};
//     channel_id, thread_ts, initial_comment optional) shares them: in
//     channel_id, as a reply in the thread of thread_ts (a parent's ts,
//     never a reply's), or privately without a channel. A file whose
//     bytes never arrived, or an unknown id, is file_not_found.
//
// slack-go sends the token with the bytes, and only to an https Slack
// host or the API's own host: the fake's upload URL is on its API host.
//
// The fake keeps every file's bytes for tests (Uploads).

// uploadPath is where the fake takes a file's bytes; the file id follows.
const uploadPath = "/upload/v1/"

// maxUpload bounds what the fake keeps of one file.
const maxUpload = 32 << 20

// Upload is a file shared through the v2 flow.
type Upload struct {
	ID             string
	Filename       string
	Title          string
	Length         int    // as declared to files.getUploadURLExternal
	Content        []byte // as POSTed to the upload URL
	Channel        string // channel_id; "" for a private file
	ThreadTS       string // thread_ts: shared as a reply in that thread
	InitialComment string
	At             time.Time
}

// pendingFile is a file between steps 1 and 3.
type pendingFile struct {
	filename string
	length   int
	content  []byte
	uploaded bool
}

// Uploads returns the files shared so far, in order.
func (s *Server) Uploads() []Upload {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Upload, len(s.uploads))
	for i, u := range s.uploads {
		u.Content = bytes.Clone(u.Content)
		out[i] = u
	}
	return out
}

// noteToken records the credentials a request carried; s.mu is held.
func (s *Server) noteToken(r *http.Request, form string) {
	if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		s.tokens[tok] = true
	}
	if form != "" {
		s.tokens[form] = true
	}
}

// getUploadURL is files.getUploadURLExternal; s.mu is held.
func (s *Server) getUploadURL(w http.ResponseWriter, v url.Values) {
	length, err := strconv.Atoi(v.Get("length"))
	if v.Get("filename") == "" || err != nil || length <= 0 {
		s.answer(w, map[string]any{"ok": false, "error": "missing_argument"})
		return
	}
	s.seq++
	id := fmt.Sprintf("F%08d", s.seq)
	if s.pendingFiles == nil {
		s.pendingFiles = map[string]*pendingFile{}
	}
	s.pendingFiles[id] = &pendingFile{filename: v.Get("filename"), length: length}
	url := strings.TrimSuffix(s.srv.GetAPIURL(), "/") + uploadPath + id
	s.answer(w, map[string]any{"ok": true, "upload_url": url, "file_id": id})
}

// upload takes a file's bytes at its upload URL: the raw body, or the
// file part of a multipart form.
func (s *Server) upload(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	id := strings.TrimPrefix(r.URL.Path, uploadPath)
	content, err := uploadedBytes(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if f := s.attempt(r, "upload", nil); f != nil {
		answerFault(w, f)
		return
	}
	p := s.pendingFiles[id]
	if p == nil {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	p.content, p.uploaded = content, true
	fmt.Fprintf(w, "OK - %d", len(content))
}

func uploadedBytes(r *http.Request) ([]byte, error) {
	body := io.LimitReader(r.Body, maxUpload)
	mt, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "multipart/form-data" {
		return io.ReadAll(body)
	}
	mr := multipart.NewReader(body, params["boundary"])
	for {
		part, err := mr.NextPart()
		if err != nil {
			return nil, fmt.Errorf("multipart form without a file part: %w", err)
		}
		if part.FileName() != "" || part.FormName() == "file" || part.FormName() == "filename" {
			return io.ReadAll(part)
		}
	}
}

// completeUpload is files.completeUploadExternal; s.mu is held.
func (s *Server) completeUpload(w http.ResponseWriter, v url.Values) {
	var files []struct {
		ID    string `json:"id"`
		Title string `json:"title"`
	}
	if err := json.Unmarshal([]byte(v.Get("files")), &files); err != nil || len(files) == 0 {
		s.answer(w, map[string]any{"ok": false, "error": "invalid_arguments"})
		return
	}
	ch, thread := v.Get("channel_id"), v.Get("thread_ts")
	if thread != "" {
		// A parent's ts in that channel, never a reply's. Slack names no
		// error for this method; the fake answers thread_not_found, the
		// code of a bad thread ts elsewhere, so a wrong ts fails a test.
		parent := false
		for _, c := range s.calls {
			parent = parent || (c.Method == "chat.postMessage" && c.Channel == ch && c.TS == thread && c.ThreadTS == "")
		}
		if !parent {
			s.answer(w, map[string]any{"ok": false, "error": "thread_not_found"})
			return
		}
	}
	var shared []map[string]any
	for _, f := range files {
		p := s.pendingFiles[f.ID]
		if p == nil || !p.uploaded {
			s.answer(w, map[string]any{"ok": false, "error": "file_not_found"})
			return
		}
	}
	for _, f := range files {
		p := s.pendingFiles[f.ID]
		delete(s.pendingFiles, f.ID)
		title := f.Title
		if title == "" {
			title = p.filename
		}
		s.uploads = append(s.uploads, Upload{ID: f.ID, Filename: p.filename, Title: title, Length: p.length, Content: p.content,
			Channel: ch, ThreadTS: thread, InitialComment: v.Get("initial_comment"), At: s.now()})
		shared = append(shared, map[string]any{"id": f.ID, "title": title})
	}
	s.answer(w, map[string]any{"ok": true, "files": shared})
}
