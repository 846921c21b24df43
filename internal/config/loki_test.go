package config

import (
	"strings"
	"testing"
	"time"
)

func TestLokiValidate(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mod    func(*Loki)
		fields []string // fields named in the errors; none: valid
	}{
		{"defaults, off", func(*Loki) {}, nil},
		{"on", func(l *Loki) { l.URL = "http://127.0.0.1:3100" }, nil},
		{"https with prefix and basic auth", func(l *Loki) {
			l.URL, l.Username, l.Password, l.TenantID = "https://logs.example.com/loki", "u", "p", "team"
		}, nil},
		{"bad url", func(l *Loki) { l.URL = "127.0.0.1:3100" }, []string{"loki.url"}},
		{"both auths", func(l *Loki) { l.URL, l.Username, l.BearerToken = "http://x", "u", "t" }, []string{"loki.bearer_token"}},
		{"password alone", func(l *Loki) { l.Password = "p" }, []string{"loki.username"}},
		{"format", func(l *Loki) { l.Format = "xml" }, []string{"loki.format"}},
		{"everything wrong at once", func(l *Loki) {
			l.Service, l.BatchMaxEvents, l.BatchMaxBytes, l.BatchWait, l.Timeout = "", 0, 10, 0, -time.Second
			l.MinBackoff, l.MaxBackoff = time.Second, time.Millisecond
		}, []string{"loki.service", "loki.batch_max_events", "loki.batch_max_bytes", "loki.batch_wait", "loki.timeout", "loki.max_backoff"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := defaultLoki()
			tc.mod(&l)
			errs := l.validate()
			var got []string
			for _, e := range errs {
				got = append(got, e.Field)
			}
			if strings.Join(got, ",") != strings.Join(tc.fields, ",") {
				t.Errorf("errors on %v, want %v (%v)", got, tc.fields, errs)
			}
		})
	}
}

func TestLokiRedacted(t *testing.T) {
	l := defaultLoki()
	l.URL, l.Password, l.BearerToken = "https://user:secret@logs.example.com", "pw", "tok"
	r := l.redacted()
	s := r.URL + r.Password + r.BearerToken
	for _, secret := range []string{"secret", "pw", "tok", "user:"} {
		if strings.Contains(s, secret) {
			t.Errorf("redacted config still shows %q: %+v", secret, r)
		}
	}
	if l.Password != "pw" {
		t.Error("redacted changed the original")
	}
}
