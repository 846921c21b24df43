// Package email delivers alert notifications by SMTP, with STARTTLS or
// implicit TLS, AUTH PLAIN or LOGIN, recipients per severity and a subject
// template. It uses net/smtp from the standard library plus a small LOGIN
// mechanism, which net/smtp lacks. Retries are the dispatcher's.
package email

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"os"
	"sort"
	"strconv"
	"strings"
	"text/template"
	"time"

	"github.com/vigil-sec/vigil/internal/alert"
	"github.com/vigil-sec/vigil/internal/config"
	"github.com/vigil-sec/vigil/internal/rules"
)

var _ alert.Notifier = (*Email)(nil)

// Email sends through one SMTP server.
type Email struct {
	addr     string
	host     string
	tlsMode  string
	tlsConf  *tls.Config
	username string
	password string
	auth     string
	from     string
	to       []string
	bySev    map[rules.Severity][]string
	subject  *template.Template
	hello    string
	now      func() time.Time
}

// New builds an Email channel from its configuration.
func New(c config.EmailChannel) (*Email, error) {
	e := &Email{
		addr:     net.JoinHostPort(c.Host, strconv.Itoa(c.Port)),
		host:     c.Host,
		tlsMode:  c.TLS,
		tlsConf:  &tls.Config{ServerName: c.Host, MinVersion: tls.VersionTLS12, InsecureSkipVerify: c.InsecureSkipVerify},
		username: c.Username,
		password: c.Password,
		auth:     strings.ToLower(c.Auth),
		to:       append([]string(nil), c.To...),
		bySev:    map[rules.Severity][]string{},
		hello:    "localhost",
		now:      time.Now,
	}
	if e.tlsMode == "" {
		e.tlsMode = config.TLSStartTLS
	}
	from, err := mail.ParseAddress(c.From)
	if err != nil {
		return nil, fmt.Errorf("email: from %q: %w", c.From, err)
	}
	e.from = from.Address
	for k, v := range c.Recipients {
		s, err := rules.ParseSeverity(k)
		if err != nil {
			return nil, fmt.Errorf("email: recipients: %w", err)
		}
		e.bySev[s] = append(e.bySev[s], v...)
	}
	subj := c.Subject
	if subj == "" {
		subj = "[vigil {{.Severity}}] {{.Title}}"
	}
	if e.subject, err = alert.ParseTemplate("email subject", subj, false); err != nil {
		return nil, fmt.Errorf("email: %w", err)
	}
	if h, err := os.Hostname(); err == nil && h != "" {
		e.hello = h
	}
	return e, nil
}

// SetRootCAs makes the client trust pool instead of the system roots (a
// private CA, or a test server's self-signed certificate).
func (e *Email) SetRootCAs(pool *x509.CertPool) { e.tlsConf.RootCAs = pool }

// Name implements alert.Notifier.
func (e *Email) Name() string { return "email" }

// Recipients returns the addresses for severity s: to plus the
// severity's own list, deduplicated, sorted.
func (e *Email) Recipients(s rules.Severity) []string {
	seen := map[string]bool{}
	var out []string
	for _, l := range [][]string{e.to, e.bySev[s]} {
		for _, a := range l {
			if p, err := mail.ParseAddress(a); err == nil && !seen[p.Address] {
				seen[p.Address] = true
				out = append(out, p.Address)
			}
		}
	}
	sort.Strings(out)
	return out
}

// oneLine strips what could inject headers.
func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.NewReplacer("\r", " ", "\n", " ").Replace(s)), " ")
}

// Message builds the RFC 5322 message for n.
func (e *Email) Message(n alert.Notification, to []string) ([]byte, error) {
	subj, err := alert.Render(e.subject, n)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	h := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, v) }
	h("From", e.from)
	h("To", strings.Join(to, ", "))
	h("Subject", mime.QEncoding.Encode("utf-8", oneLine(string(subj))))
	h("Date", e.now().UTC().Format(time.RFC1123Z))
	id := strings.Map(func(r rune) rune {
		if r < 128 && (r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return r
		}
		return -1
	}, n.Alert.ID)
	if id == "" {
		id = "summary"
	}
	h("Message-ID", fmt.Sprintf("<%s.%s.%d@vigil>", id, n.Kind, e.now().UnixNano()))
	h("MIME-Version", "1.0")
	h("Content-Type", "text/plain; charset=utf-8")
	h("Content-Transfer-Encoding", "quoted-printable")
	h("X-Vigil-Severity", n.Severity.String())
	h("X-Vigil-Kind", string(n.Kind))
	if n.Alert.Rule != "" {
		h("X-Vigil-Rule", mime.QEncoding.Encode("utf-8", oneLine(n.Alert.Rule)))
		h("X-Vigil-Alert-Id", mime.QEncoding.Encode("utf-8", oneLine(n.Alert.ID)))
	}
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	body := strings.ReplaceAll(n.Text(), "\n", "\r\n") + "\r\n"
	if _, err := qp.Write([]byte(body)); err != nil {
		return nil, err
	}
	if err := qp.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// Notify implements alert.Notifier. A notification with no recipient for
// its severity is not an error: it is simply not mailed.
func (e *Email) Notify(ctx context.Context, n alert.Notification) error {
	to := e.Recipients(n.Severity)
	if len(to) == 0 {
		return nil
	}
	msg, err := e.Message(n, to)
	if err != nil {
		return alert.Permanent(fmt.Errorf("email: %w", err))
	}
	if err := e.send(ctx, to, msg); err != nil {
		return fmt.Errorf("email via %s: %w", e.addr, err)
	}
	return nil
}

func (e *Email) send(ctx context.Context, to []string, msg []byte) error {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", e.addr)
	if err != nil {
		return err
	}
	// The context bounds the whole conversation, not only the dial.
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	if e.tlsMode == config.TLSImplicit {
		tc := tls.Client(conn, e.tlsConf)
		if err := tc.HandshakeContext(ctx); err != nil {
			conn.Close()
			return fmt.Errorf("tls: %w", err)
		}
		conn = tc
	}
	c, err := smtp.NewClient(conn, e.host)
	if err != nil {
		conn.Close()
		return ctxErr(ctx, err)
	}
	defer c.Close()
	if err := c.Hello(e.hello); err != nil {
		return ctxErr(ctx, err)
	}
	if e.tlsMode == config.TLSStartTLS {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return alert.Permanent(errors.New("server does not offer STARTTLS (set tls: tls for implicit TLS, or none for a loopback relay)"))
		}
		if err := c.StartTLS(e.tlsConf); err != nil {
			return ctxErr(ctx, fmt.Errorf("starttls: %w", err))
		}
	}
	if e.username != "" {
		var a smtp.Auth
		if e.auth == "login" {
			a = &loginAuth{username: e.username, password: e.password, host: e.host}
		} else {
			a = smtp.PlainAuth("", e.username, e.password, e.host)
		}
		if err := c.Auth(a); err != nil {
			return alert.Permanent(fmt.Errorf("auth: %w", err))
		}
	}
	if err := c.Mail(e.from); err != nil {
		return ctxErr(ctx, fmt.Errorf("mail from: %w", err))
	}
	for _, r := range to {
		if err := c.Rcpt(r); err != nil {
			return ctxErr(ctx, fmt.Errorf("rcpt %s: %w", r, err))
		}
	}
	w, err := c.Data()
	if err != nil {
		return ctxErr(ctx, fmt.Errorf("data: %w", err))
	}
	if _, err := w.Write(msg); err != nil {
		return ctxErr(ctx, fmt.Errorf("data: %w", err))
	}
	if err := w.Close(); err != nil {
		return ctxErr(ctx, fmt.Errorf("data: %w", err))
	}
	_ = c.Quit() // the message is accepted; a failed QUIT changes nothing
	return nil
}

func ctxErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%w (%v)", ctx.Err(), err)
	}
	return err
}

// loginAuth is the LOGIN mechanism (username and password as two base64
// challenges), which many relays (Office 365, older Exchange) still ask
// for. Like smtp.PlainAuth it refuses to send credentials without TLS,
// except to localhost.
type loginAuth struct {
	username, password, host string
}

func (a *loginAuth) Start(server *smtp.ServerInfo) (string, []byte, error) {
	if !server.TLS && !isLocalhost(server.Name) {
		return "", nil, errors.New("unencrypted connection: refusing to send the password")
	}
	if server.Name != a.host {
		return "", nil, errors.New("wrong host name")
	}
	return "LOGIN", nil, nil
}

func (a *loginAuth) Next(fromServer []byte, more bool) ([]byte, error) {
	if !more {
		return nil, nil
	}
	switch strings.ToLower(strings.TrimSpace(string(fromServer))) {
	case "username:", "user name", "username":
		return []byte(a.username), nil
	case "password:", "password":
		return []byte(a.password), nil
	}
	return nil, fmt.Errorf("unexpected LOGIN challenge %q", fromServer)
}

func isLocalhost(name string) bool {
	return name == "localhost" || name == "127.0.0.1" || name == "::1"
}
