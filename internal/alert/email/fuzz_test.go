package email

import (
	"bytes"
	"net/mail"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/internal/alert"
	"github.com/vigil-sec/vigil/internal/config"
	"github.com/vigil-sec/vigil/internal/rules"
)

// FuzzMessageHeaders: rule ids, descriptions and commands come from rule
// files and agent actions; none of them can add a header (Bcc: …) or break
// the message.
func FuzzMessageHeaders(f *testing.F) {
	for _, s := range []string{"x\r\nBcc: evil@example.com", "\n\nbody", "é€", "=?utf-8?q?x?=", strings.Repeat("a", 2000)} {
		f.Add(s, s)
	}
	e, err := New(config.EmailChannel{Host: "smtp.example", Port: 587, From: "v@example.com", To: []string{"a@example.com"},
		Subject: "[{severity}] {rule} {description}"})
	if err != nil {
		f.Fatal(err)
	}
	want := []string{"Content-Transfer-Encoding", "Content-Type", "Date", "From", "Message-Id", "Mime-Version", "Subject", "To",
		"X-Vigil-Alert-Id", "X-Vigil-Kind", "X-Vigil-Rule", "X-Vigil-Severity"}
	f.Fuzz(func(t *testing.T, rule, text string) {
		n := alert.Notification{Kind: alert.KindNew, Severity: rules.High, Title: text,
			Alert: alert.Alert{ID: rule, Rule: rule, Description: text, Summary: text, Severity: rules.High}}
		if rule == "" {
			n.Alert.ID, n.Alert.Rule = "id", "r"
		}
		b, err := e.Message(n, []string{"a@example.com"})
		if err != nil {
			t.Fatal(err)
		}
		m, err := mail.ReadMessage(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("unparseable message: %v\n%q", err, b)
		}
		var got []string
		for k := range m.Header {
			got = append(got, k)
		}
		if len(got) != len(want) {
			t.Fatalf("headers %v, want %v", got, want)
		}
		for _, k := range want {
			if _, ok := m.Header[k]; !ok {
				t.Fatalf("header %s missing (have %v)", k, got)
			}
		}
	})
}
