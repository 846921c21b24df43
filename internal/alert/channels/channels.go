// Package channels builds the enabled alert channels from configuration.
// It is the one place that knows every channel package, so serve wires
// alerts with config → channels.Build → alert.New.
package channels

import (
	"errors"
	"fmt"
	"io"

	"github.com/vigil-sec/vigil/internal/alert"
	"github.com/vigil-sec/vigil/internal/alert/console"
	"github.com/vigil-sec/vigil/internal/alert/email"
	"github.com/vigil-sec/vigil/internal/alert/grafana"
	"github.com/vigil-sec/vigil/internal/alert/jsonfile"
	"github.com/vigil-sec/vigil/internal/alert/slack"
	"github.com/vigil-sec/vigil/internal/alert/webhook"
	"github.com/vigil-sec/vigil/internal/config"
)

// Build returns the enabled channels of cfg, in a stable order. console
// is where the console channel writes (serve passes stderr). Channels
// holding resources (the JSON file) are closed by Dispatcher.Close; on
// error, Build closes what it opened.
func Build(cfg config.Alerts, consoleOut io.Writer) ([]alert.Channel, error) {
	var out []alert.Channel
	fail := func(err error) ([]alert.Channel, error) {
		var errs []error
		for _, c := range out {
			if cl, ok := c.Notifier.(io.Closer); ok {
				errs = append(errs, cl.Close())
			}
		}
		return nil, errors.Join(append([]error{err}, errs...)...)
	}
	if c := cfg.Console; c.Enabled {
		out = append(out, alert.Channel{Notifier: console.New(consoleOut, c.Color), AlertChannel: c.AlertChannel})
	}
	if c := cfg.File; c.Enabled {
		f, err := jsonfile.New(c)
		if err != nil {
			return fail(err)
		}
		out = append(out, alert.Channel{Notifier: f, AlertChannel: c.AlertChannel})
	}
	for i, c := range cfg.Webhooks {
		if !c.Enabled {
			continue
		}
		if c.Name == "" {
			c.Name = "webhook"
			if i > 0 {
				c.Name = fmt.Sprintf("webhook-%d", i+1)
			}
		}
		w, err := webhook.New(c)
		if err != nil {
			return fail(err)
		}
		out = append(out, alert.Channel{Notifier: w, AlertChannel: c.AlertChannel})
	}
	if c := cfg.Email; c.Enabled {
		e, err := email.New(c)
		if err != nil {
			return fail(err)
		}
		out = append(out, alert.Channel{Notifier: e, AlertChannel: c.AlertChannel})
	}
	if c := cfg.Grafana; c.Enabled {
		g, err := grafana.New(c)
		if err != nil {
			return fail(err)
		}
		out = append(out, alert.Channel{Notifier: g, AlertChannel: c.AlertChannel})
	}
	if c := cfg.Slack; c.Enabled {
		s, err := slack.New(c)
		if err != nil {
			return fail(err)
		}
		out = append(out, alert.Channel{Notifier: s, AlertChannel: c.AlertChannel})
	}
	return out, nil
}
