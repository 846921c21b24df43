package apptest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// uiBrowser starts Debian's headless chromium with a fresh profile; it is
// skipped without one locally and fails without one in CI.
func uiBrowser(t *testing.T) context.Context {
	t.Helper()
	exe := os.Getenv("VIGIL_CHROMIUM")
	if exe == "" {
		exe, _ = exec.LookPath("chromium")
	}
	if exe == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("chromium not found: apt-get install -y chromium")
		}
		t.Skip("chromium not found (apt-get install -y chromium)")
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(exe), chromedp.Flag("headless", true), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true), chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 800))
	ctx, cancelC := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelC(); cancelA() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// TestUILiveFromHook: the dashboard of a real `vigil serve` shows an event
// that `vigil hook` recorded, live (spool → serve → SSE → browser), within
// 1 s and without a reload.
func TestUILiveFromHook(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	ctx := uiBrowser(t)
	in := newInstance(t)
	srv := in.serve()
	raw, err := os.ReadFile(filepath.Join(sharedDir(t), "fixtures", "hooks", "PreToolUse-Bash.json"))
	if err != nil {
		t.Fatal(err)
	}
	c, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := chromedp.Do(c, chromedp.Navigate(srv.url("/#/live"))); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(c, chromedp.Poll[chromedp.Void](`document.body.dataset.live === 'on'`, chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		t.Fatalf("live stream not connected: %v", err)
	}
	var lat []time.Duration
	for i := range 3 {
		var p map[string]any
		if err := json.Unmarshal(raw, &p); err != nil {
			t.Fatal(err)
		}
		marker := fmt.Sprintf("ui-live-marker-%d-%d", i, time.Now().UnixNano())
		p["tool_input"] = map[string]any{"command": "echo " + marker, "description": "marker"}
		p["tool_use_id"] = fmt.Sprintf("toolu_01uilive%016d", i)
		b, _ := json.Marshal(p)
		in.hook(b)
		start := time.Now()
		if _, err := chromedp.Run(c, chromedp.Poll[chromedp.Void](
			fmt.Sprintf(`document.querySelector('table.events tbody').textContent.includes(%q)`, marker),
			chromedp.WithPollingTimeout(5*time.Second), chromedp.WithPollingInterval(10*time.Millisecond))); err != nil {
			t.Fatalf("event %d never appeared: %v\n%s", i, err, srv.logs.String())
		}
		lat = append(lat, time.Since(start))
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	t.Logf("hook exit → row visible: %v", lat)
	if lat[1] > time.Second {
		t.Errorf("median hook → browser latency %v, want < 1s (all: %v)", lat[1], lat)
	}
}
