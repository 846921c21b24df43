package loki

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"testing"
	"time"
)

// authProxy stands in front of the real Loki like a gateway would: it
// passes only requests with the expected credentials and tenant.
func authProxy(t *testing.T, lokiURL string, check func(r *http.Request) bool) *httptest.Server {
	t.Helper()
	u, err := url.Parse(lokiURL)
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !check(r) {
			http.Error(w, "no entry", http.StatusUnauthorized)
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestForwarderAuth: tenant header, bearer and basic auth reach Loki; with
// wrong credentials nothing is lost — the forwarder keeps the events and
// retries, and a forwarder with the right ones delivers them all once.
func TestForwarderAuth(t *testing.T) {
	t.Parallel()
	lk := sharedLoki(t)
	for _, tc := range []struct {
		name  string
		good  ClientOptions
		bad   ClientOptions
		check func(r *http.Request) bool
	}{
		{"bearer and tenant",
			ClientOptions{BearerToken: "s3cret", TenantID: "team-a"},
			ClientOptions{BearerToken: "wrong", TenantID: "team-a"},
			func(r *http.Request) bool {
				return r.Header.Get("Authorization") == "Bearer s3cret" && r.Header.Get("X-Scope-OrgID") == "team-a"
			}},
		{"basic",
			ClientOptions{Username: "vigil", Password: "pw", Format: FormatJSON},
			ClientOptions{Username: "vigil", Password: "nope", Format: FormatJSON},
			func(r *http.Request) bool {
				u, p, ok := r.BasicAuth()
				return ok && u == "vigil" && p == "pw"
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			proxy := authProxy(t, lk.URL(), tc.check)
			service := "vigil-auth-" + tc.name
			st := openStore(t)
			base := time.Now().Add(-time.Minute).Truncate(time.Millisecond)
			appendEvents(t, st, genEvents("auth-"+tc.name, 300, base))

			tc.bad.URL = proxy.URL
			bad, err := NewClient(tc.bad)
			if err != nil {
				t.Fatal(err)
			}
			rf := startForwarder(t, ForwarderOptions{Client: bad, Source: StoreSource{st}, Service: service})
			waitFor(t, 10*time.Second, "refused pushes", func() bool {
				return metricValue(t, rf.f.m.pushErrors.WithLabelValues("401")) >= 2
			})
			rf.stop()
			if cp := checkpointOf(t, st); cp != 0 {
				t.Fatalf("checkpoint moved to %d while Loki refused us", cp)
			}

			tc.good.URL = proxy.URL
			good, err := NewClient(tc.good)
			if err != nil {
				t.Fatal(err)
			}
			rf = startForwarder(t, ForwarderOptions{Client: good, Source: StoreSource{st}, Service: service})
			waitDrained(t, st, 30*time.Second)
			rf.stop()
			verifyExactlyOnce(t, testClient(t, lk.URL(), FormatProtobuf), service, st, base.Add(-time.Minute))
		})
	}
}

// TestForwarderSplitsWhatLokiCannotTake: a gateway in front of Loki fails
// requests above a size with 500 (first) or 413 (second case); the
// forwarder pushes in halves until they pass, and everything lands once.
func TestForwarderSplitsWhatLokiCannotTake(t *testing.T) {
	t.Parallel()
	lk := sharedLoki(t)
	for _, status := range []int{http.StatusInternalServerError, http.StatusRequestEntityTooLarge} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			t.Parallel()
			u, _ := url.Parse(lk.URL())
			rp := httputil.NewSingleHostReverseProxy(u)
			proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/loki/api/v1/push" && r.ContentLength > 8<<10 {
					http.Error(w, "too big for me", status)
					return
				}
				rp.ServeHTTP(w, r)
			}))
			t.Cleanup(proxy.Close)
			service := "vigil-split-" + strconv.Itoa(status)
			st := openStore(t)
			base := time.Now().Add(-time.Minute).Truncate(time.Millisecond)
			appendEvents(t, st, genEvents(service, 600, base))
			rf := startForwarder(t, ForwarderOptions{Client: testClient(t, proxy.URL, FormatProtobuf), Source: StoreSource{st}, Service: service,
				MinBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond})
			waitDrained(t, st, 60*time.Second)
			rf.stop()
			verifyExactlyOnce(t, testClient(t, lk.URL(), FormatProtobuf), service, st, base.Add(-time.Minute))
		})
	}
}
