package alert

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"syscall"
	"time"
)

// ErrPrivateTarget is returned when an outbound channel would connect to a
// loopback, private, link-local or otherwise internal address and the
// channel does not set allow_private.
var ErrPrivateTarget = errors.New("refusing to connect to a private, loopback or link-local address (set allow_private: true to permit it)")

// NewHTTPClient returns the client the HTTP channels use. Unless
// allowPrivate, it refuses internal targets. The check runs in the
// dialer's Control hook on the address actually being dialled, after DNS
// resolution and on every redirect, so a public name that resolves to
// 127.0.0.1 or 169.254.169.254 is refused too. Proxies from the
// environment are not used: a proxy would dial on our behalf and bypass
// the check. Timeouts come from the caller's context.
func NewHTTPClient(allowPrivate bool) *http.Client {
	d := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	if !allowPrivate {
		d.Control = func(_, address string, _ syscall.RawConn) error {
			host, _, err := net.SplitHostPort(address)
			if err != nil {
				return err
			}
			ip, err := netip.ParseAddr(host)
			if err != nil {
				return fmt.Errorf("dial %s: %w", address, err)
			}
			if privateAddr(ip) {
				return fmt.Errorf("dial %s: %w", address, ErrPrivateTarget)
			}
			return nil
		}
	}
	t := &http.Transport{
		DialContext:           d.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          16,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	return &http.Client{
		Transport: t,
		CheckRedirect: func(_ *http.Request, via []*http.Request) error {
			if len(via) >= 3 {
				return errors.New("stopped after 3 redirects")
			}
			return nil
		},
	}
}

// cgnat is the shared address space (RFC 6598), internal in practice.
var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// nat64 embeds IPv4 addresses in IPv6 (RFC 6052).
var nat64 = netip.MustParsePrefix("64:ff9b::/96")

func privateAddr(ip netip.Addr) bool {
	ip = ip.Unmap()
	if nat64.Contains(ip) {
		b := ip.As16()
		ip = netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]})
	}
	return ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() ||
		ip.IsLinkLocalMulticast() || ip.IsInterfaceLocalMulticast() ||
		ip.IsMulticast() || ip.IsUnspecified() || cgnat.Contains(ip) ||
		(ip.Is4() && ip.As4()[0] == 0) // 0.0.0.0/8 reaches this host on Linux
}

// Do sends req with c and turns the answer into an error: nil for 2xx;
// Permanent for 4xx other than 408 and 429 and for refused targets (a
// retry cannot help); a plain error, to be retried, otherwise.
func Do(ctx context.Context, c *http.Client, req *http.Request) error {
	resp, err := c.Do(req.WithContext(ctx))
	if err != nil {
		if errors.Is(err, ErrPrivateTarget) {
			return Permanent(err)
		}
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20)) // let the connection be reused
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	err = fmt.Errorf("%s %s: %s: %s", req.Method, req.URL.Redacted(), resp.Status, strings.TrimSpace(string(body)))
	if resp.StatusCode >= 400 && resp.StatusCode < 500 && resp.StatusCode != http.StatusRequestTimeout && resp.StatusCode != http.StatusTooManyRequests {
		return Permanent(err)
	}
	return err
}
