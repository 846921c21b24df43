package loki

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Wire formats for pushes.
const (
	FormatProtobuf = "protobuf" // protobuf + snappy, Loki's native format
	FormatJSON     = "json"     // plain JSON, for proxies that only pass JSON
)

// ClientOptions configures a Client. Zero values take the defaults noted.
type ClientOptions struct {
	// URL is Loki's base URL, e.g. http://127.0.0.1:3100 (paths are added).
	URL string
	// TenantID, when set, is sent as X-Scope-OrgID.
	TenantID string
	// Username and Password select basic auth; BearerToken a bearer token.
	Username    string
	Password    string
	BearerToken string
	// Format is FormatProtobuf (default) or FormatJSON.
	Format string
	// Timeout bounds each push (default 10s).
	Timeout time.Duration
	// QueryTimeout bounds each query (default 60s: checking a batch
	// against Loki after an outage may scan a long range).
	QueryTimeout time.Duration
	// HTTPClient replaces the default client (its Timeout is left alone).
	HTTPClient *http.Client
	// UserAgent defaults to "vigil".
	UserAgent string
}

// Client talks to one Loki: push and query_range.
type Client struct {
	base    *url.URL
	opts    ClientOptions
	http    *http.Client
	timeout time.Duration
}

// NewClient checks the options and returns a Client.
func NewClient(o ClientOptions) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(o.URL, "/"))
	if err != nil {
		return nil, fmt.Errorf("loki url %q: %w", o.URL, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("loki url %q: want http(s)://host[:port][/prefix]", o.URL)
	}
	if o.Username != "" && o.BearerToken != "" {
		return nil, errors.New("loki: set either basic auth or a bearer token, not both")
	}
	switch o.Format {
	case "":
		o.Format = FormatProtobuf
	case FormatProtobuf, FormatJSON:
	default:
		return nil, fmt.Errorf("loki format %q: want %q or %q", o.Format, FormatProtobuf, FormatJSON)
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.QueryTimeout <= 0 {
		o.QueryTimeout = max(60*time.Second, o.Timeout)
	}
	if o.UserAgent == "" {
		o.UserAgent = "vigil"
	}
	hc := o.HTTPClient
	if hc == nil {
		hc = &http.Client{}
	}
	return &Client{base: u, opts: o, http: hc, timeout: o.Timeout}, nil
}

// URL returns the base URL the client talks to.
func (c *Client) URL() string { return c.base.String() }

// PushError is a push Loki answered with a non-2xx status, or a push that
// did not get an answer at all (Status 0).
type PushError struct {
	Status int    // HTTP status; 0 when the request failed before a response
	Body   string // Loki's message, trimmed
	Err    error  // transport error when Status is 0
}

func (e *PushError) Error() string {
	if e.Status == 0 {
		return fmt.Sprintf("loki push: %v", e.Err)
	}
	return fmt.Sprintf("loki push: status %d: %s", e.Status, e.Body)
}

func (e *PushError) Unwrap() error { return e.Err }

// Retryable reports whether sending the same batch again can succeed:
// transport errors, 429 and 5xx. Any other 4xx is Loki refusing the data.
func (e *PushError) Retryable() bool {
	return e.Status == 0 || e.Status == http.StatusTooManyRequests || e.Status >= 500
}

// Delivered reports whether Loki may have stored some of the batch even
// though the push failed: the request may have reached it (transport
// error, 5xx), or Loki stored the valid entries and refused the rest (400).
// Only 429 and auth-type errors reject the request before any write.
func (e *PushError) Delivered() bool {
	switch {
	case e.Status == 0, e.Status >= 500:
		return true
	case e.Status == http.StatusBadRequest:
		return true
	}
	return false
}

// Push sends streams in one request, once. It returns nil on 2xx and a
// *PushError otherwise, or the context's error.
func (c *Client) Push(ctx context.Context, streams []Stream) (int, error) {
	var body []byte
	var ctype string
	switch c.opts.Format {
	case FormatJSON:
		b, err := EncodeJSON(streams)
		if err != nil {
			return 0, fmt.Errorf("encode push: %w", err)
		}
		body, ctype = b, "application/json"
	default:
		body, ctype = EncodeSnappy(streams), "application/x-protobuf"
	}
	return len(body), c.pushBody(ctx, body, ctype)
}

func (c *Client) pushBody(parent context.Context, body []byte, ctype string) error {
	ctx, cancel := context.WithTimeout(parent, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint("/loki/api/v1/push"), bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("loki push: %w", err)
	}
	req.Header.Set("Content-Type", ctype)
	c.decorate(req)
	resp, err := c.http.Do(req)
	if err != nil {
		if parent.Err() != nil {
			return parent.Err()
		}
		return &PushError{Err: err}
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	if resp.StatusCode/100 == 2 {
		return nil
	}
	return &PushError{Status: resp.StatusCode, Body: strings.TrimSpace(string(msg))}
}

func (c *Client) endpoint(path string) string {
	return c.base.String() + path
}

func (c *Client) decorate(req *http.Request) {
	req.Header.Set("User-Agent", c.opts.UserAgent)
	if c.opts.TenantID != "" {
		req.Header.Set("X-Scope-OrgID", c.opts.TenantID)
	}
	switch {
	case c.opts.BearerToken != "":
		req.Header.Set("Authorization", "Bearer "+c.opts.BearerToken)
	case c.opts.Username != "":
		req.SetBasicAuth(c.opts.Username, c.opts.Password)
	}
}
