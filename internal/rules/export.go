package rules

// WordBounded is how seed-format patterns are matched: the alternatives of
// a one-group alternation get \b at their word ends, so "su" no longer
// matches "summary". The Loki ruler export uses it to fire on exactly what
// the engine fires on.
func WordBounded(re string) string { return wordBounded(re) }
