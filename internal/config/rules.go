package config

// Rules configures the rule engine. Owned by the detection work (issue 3).
type Rules struct {
	// Defaults turns the built-in rule set on (default true).
	Defaults bool `yaml:"defaults"`
	// Files are extra rule files: native YAML or the seed's security-rules.yaml format.
	Files []string `yaml:"files"`
	// Disabled lists rule ids to switch off.
	Disabled []string `yaml:"disabled"`
}

func defaultRules() Rules { return Rules{Defaults: true} }

func (r Rules) validate() Errors { return nil }
