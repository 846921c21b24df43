package config

// Alerts configures the alert dispatcher and its channels. Owned by the
// detection work (issue 3).
type Alerts struct{}

func defaultAlerts() Alerts { return Alerts{} }

func (a Alerts) validate() Errors { return nil }

func (a Alerts) redacted() Alerts { return a }
