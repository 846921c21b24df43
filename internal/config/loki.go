package config

// Loki configures the optional forwarder to Grafana Loki. Owned by the Loki
// work (issue 4).
type Loki struct {
	URL string `yaml:"url"`
}

func defaultLoki() Loki { return Loki{} }

func (l Loki) validate() Errors { return nil }

func (l Loki) redacted() Loki { return l }
