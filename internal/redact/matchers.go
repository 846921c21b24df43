package redact

import "strings"

// The matchers. Each one is called at a position where one of its trigger
// prefixes starts, appends what it finds, and returns how far its trigger
// group may skip: never more than it has read, so nothing is missed, and
// never less than the trigger, so the scan stays linear.

// run returns the end of the run of cs characters starting at i, stopping
// at limit.
func run(s string, i int, cs *charset, limit int) int {
	j := i
	for j < len(s) && j-i < limit && cs[s[j]] {
		j++
	}
	return j
}

// tokenAt matches prefix tokens.
func (r *Redactor) tokenAt(s string, i int, t *trigger, ms *[]match) int {
	tk := t.tok
	if i > 0 && r.word[s[i-1]] {
		return i + 1 // \b before the prefix
	}
	start := i + len(t.prefix)
	end := run(s, start, tk.cs, tk.max+1)
	n := end - start
	if n > tk.max {
		if !tk.cut {
			return end
		}
		end = start + tk.max
		n = tk.max
	}
	if n < tk.min {
		return end
	}
	if tk.boundary && end < len(s) && r.word[s[end]] {
		return end
	}
	tokStr := s[i:end]
	if tk.trim != nil {
		trimmed, ok := tk.trim(tokStr)
		if !ok {
			return end
		}
		end = i + len(trimmed)
	}
	*ms = append(*ms, match{start: i, end: end, kind: tk.kind, prio: t.prio})
	return end
}

// trimJWT accepts header.payload.signature with base64url JSON header and
// payload, and drops anything after the signature.
func trimJWT(t string) (string, bool) {
	parts := strings.SplitN(t, ".", 4)
	if len(parts) < 3 || len(parts[0]) < 8 || !strings.HasPrefix(parts[1], "eyJ") || len(parts[1]) < 8 {
		return "", false
	}
	return t[:len(parts[0])+len(parts[1])+len(parts[2])+2], true
}

// privateKeyAt matches a PEM private key block through its END line, or to
// the end of s when the block was cut.
func (r *Redactor) privateKeyAt(s string, i int, t *trigger, ms *[]match) int {
	hdr := i + len(t.prefix)
	e := strings.Index(s[hdr:min(len(s), hdr+80)], "-----")
	if e < 0 || !strings.Contains(s[hdr:hdr+e], "PRIVATE KEY") {
		return hdr
	}
	end := len(s)
	if j := strings.Index(s[hdr+e:], "-----END "); j >= 0 {
		j += hdr + e + len("-----END ")
		if c := strings.Index(s[j:min(len(s), j+80)], "-----"); c >= 0 {
			end = j + c + 5
		} else {
			end = j
		}
	}
	*ms = append(*ms, match{start: i, end: end, kind: KindPrivateKey, prio: t.prio})
	return end
}

// slackHookAt redacts the path of a Slack incoming webhook URL.
func (r *Redactor) slackHookAt(s string, i int, t *trigger, ms *[]match) int {
	p := i + len(t.prefix)
	for _, kind := range []string{"services/", "workflows/", "triggers/"} {
		if strings.HasPrefix(s[p:], kind) {
			st := p + len(kind)
			end := st
			for end < len(s) && (r.word[s[end]] || s[end] == '/' || s[end] == '+' || s[end] == '-') {
				end++
			}
			if end-st >= 8 {
				*ms = append(*ms, match{start: st, end: end, kind: KindSlackWebhook, prio: t.prio})
				return end
			}
			return end
		}
	}
	return p
}

// urlCredAt redacts the password of scheme://user:password@host.
func (r *Redactor) urlCredAt(s string, i int, t *trigger, ms *[]match) int {
	// a scheme must precede ://
	if i == 0 || !(r.word[s[i-1]] || s[i-1] == '+' || s[i-1] == '.' || s[i-1] == '-') {
		return i + 3
	}
	p := i + 3
	colon, at := -1, -1
	j := p
	for ; j < len(s) && j-p < 512; j++ {
		c := s[j]
		if c == '/' || c == '?' || c == '#' || c == ' ' || c == '\t' || c == '\n' || c == '"' || c == '\'' || c == '<' || c == '>' || c == '[' || c == ']' {
			break
		}
		if c == ':' && colon < 0 {
			colon = j
		}
		if c == '@' {
			at = j
			break
		}
	}
	if colon < 0 || at < 0 || colon+1 >= at {
		// the authority part was read up to j; a later "://" inside it
		// cannot start a URL with credentials that ends past j
		return max(p, j-8)
	}
	*ms = append(*ms, match{start: colon + 1, end: at, kind: KindURLCredentials, prio: t.prio})
	return at
}

// authSchemes may precede the credential in an Authorization header.
var authSchemes = []string{"bearer", "basic", "token", "digest", "negotiate", "bot", "sso-key", "apikey", "aws4-hmac-sha256"}

// authAt redacts the credential of Authorization-style headers.
func (r *Redactor) authAt(s string, i int, t *trigger, ms *[]match) int {
	if i > 0 && r.word[s[i-1]] {
		return i + 1
	}
	p := i + len(t.prefix)
	if p < len(s) && (s[p] == '"' || s[p] == '\'') {
		p++
	}
	p = skipBlanks(s, p)
	if p >= len(s) || (s[p] != ':' && s[p] != '=') {
		return p
	}
	p = skipBlanks(s, p+1)
	if p < len(s) && (s[p] == '"' || s[p] == '\'') {
		p++
	}
	for _, sc := range authSchemes {
		if hasPrefixFold(s[p:], sc) && p+len(sc) < len(s) && (s[p+len(sc)] == ' ' || s[p+len(sc)] == '\t') {
			p = skipBlanks(s, p+len(sc))
			break
		}
	}
	stops := " \t\r\n\"',;"
	if t.prefix == "cookie" {
		stops = "\r\n\"'" // every cookie of the header is a credential
	}
	end := p
	for end < len(s) && !strings.ContainsRune(stops, rune(s[end])) {
		end++
	}
	v := s[p:end]
	if len(v) < 4 || strings.HasPrefix(v, markerPrefix) || v[0] == '$' || v[0] == '<' || v[0] == '{' {
		return end
	}
	*ms = append(*ms, match{start: p, end: end, kind: KindAuthorization, prio: t.prio})
	return end
}

func skipBlanks(s string, p int) int {
	for p < len(s) && (s[p] == ' ' || s[p] == '\t') {
		p++
	}
	return p
}

// commandEnd returns the end of the simple command starting at i (up to a
// newline, ; & or |), bounded.
func commandEnd(s string, i int) int {
	end := min(len(s), i+4096)
	if j := strings.IndexAny(s[i:end], "\n;&|"); j >= 0 {
		return i + j
	}
	return end
}

// wordValue returns the end of the argument at p and the span of its
// content (inside quotes when quoted).
func wordValue(s string, p, limit int) (st, en, next int) {
	if p >= limit {
		return p, p, p
	}
	if q := s[p]; q == '"' || q == '\'' {
		j := strings.IndexByte(s[p+1:limit], q)
		if j < 0 {
			return p + 1, limit, limit
		}
		return p + 1, p + 1 + j, p + 2 + j
	}
	j := p
	for j < limit && s[j] != ' ' && s[j] != '\t' && s[j] != '\n' {
		j++
	}
	return p, j, j
}

// mysqlAt redacts -p<password> given to a MySQL/MariaDB client.
func (r *Redactor) mysqlAt(s string, i int, t *trigger, ms *[]match) int {
	if i > 0 && !strings.ContainsRune(" \t\n;&|(/\"'", rune(s[i-1])) {
		return i + 1
	}
	p := i + len(t.prefix)
	for p < len(s) && (s[p] >= 'a' && s[p] <= 'z' || s[p] == '-') {
		p++ // mysqldump, mariadb-dump, ...
	}
	if p < len(s) && s[p] != ' ' && s[p] != '\t' {
		return p
	}
	end := commandEnd(s, p)
	for j := p; j+2 < end; j++ {
		if (s[j] == ' ' || s[j] == '\t') && s[j+1] == '-' && s[j+2] == 'p' {
			st, en, next := wordValue(s, j+3, end)
			v := s[st:en]
			if v == "" || strings.HasPrefix(v, markerPrefix) {
				continue
			}
			*ms = append(*ms, match{start: st, end: en, kind: KindMySQLPassword, prio: t.prio})
			j = max(j, next-1)
		}
	}
	return end
}

// clientPasswordAt redacts the password option of clients that take one
// on the command line: docker/podman/helm ... login -p PW, redis-cli -a PW,
// mongo -p PW, sqlcmd -P PW. (--password is handled with the other keys.)
func (r *Redactor) clientPasswordAt(s string, i int, t *trigger, ms *[]match) int {
	if i > 0 && !strings.ContainsRune(" \t\n;&|(/\"'", rune(s[i-1])) {
		return i + 1
	}
	p := i + len(t.prefix)
	for p < len(s) && (s[p] >= 'a' && s[p] <= 'z' || s[p] == '-') {
		p++ // mongosh, helm-registry ...
	}
	if p < len(s) && s[p] != ' ' && s[p] != '\t' {
		return p
	}
	end := commandEnd(s, p)
	flag := byte('p')
	switch strings.ToLower(t.prefix) {
	case "redis-cli":
		flag = 'a'
	case "sqlcmd":
		flag = 'P'
	case "mongo":
	default: // container tools: only their login subcommand
		if !strings.Contains(s[p:end], " login") {
			return end
		}
	}
	for j := p; j+2 < end; j++ {
		if (s[j] == ' ' || s[j] == '\t') && s[j+1] == '-' && s[j+2] == flag {
			vp := j + 3
			if vp < end && (s[vp] == ' ' || s[vp] == '\t') {
				vp = skipBlanks(s, vp)
			}
			st, en, next := wordValue(s, vp, end)
			v := s[st:en]
			if v == "" || v[0] == '-' || strings.HasPrefix(v, markerPrefix) {
				continue
			}
			*ms = append(*ms, match{start: st, end: en, kind: KindPassword, prio: t.prio})
			j = max(j, next-1)
		}
	}
	return end
}

// sshpassAt redacts sshpass -p PASSWORD.
func (r *Redactor) sshpassAt(s string, i int, t *trigger, ms *[]match) int {
	end := commandEnd(s, i)
	p := skipBlanks(s, i+len(t.prefix))
	for p < end && s[p] == '-' {
		if p+1 < end && s[p+1] == 'p' {
			vp := p + 2
			if vp < end && (s[vp] == ' ' || s[vp] == '\t') {
				vp = skipBlanks(s, vp)
			}
			st, en, _ := wordValue(s, vp, end)
			if en > st && !strings.HasPrefix(s[st:en], markerPrefix) {
				*ms = append(*ms, match{start: st, end: en, kind: KindPassword, prio: t.prio})
				return en
			}
			return end
		}
		for p < end && s[p] != ' ' && s[p] != '\t' {
			p++
		}
		p = skipBlanks(s, p)
	}
	return end
}

// curlUserAt redacts the password of curl -u user:password.
func (r *Redactor) curlUserAt(s string, i int, t *trigger, ms *[]match) int {
	if i > 0 && r.word[s[i-1]] {
		return i + 1
	}
	end := commandEnd(s, i)
	for j := i + len(t.prefix); j < end; j++ {
		if s[j] != ' ' && s[j] != '\t' {
			continue
		}
		var p int
		switch rest := s[j+1 : end]; {
		case strings.HasPrefix(rest, "-u "), strings.HasPrefix(rest, "-u\t"):
			p = skipBlanks(s, j+3)
		case strings.HasPrefix(rest, "--user "):
			p = skipBlanks(s, j+7)
		case strings.HasPrefix(rest, "--user="):
			p = j + 8
		default:
			continue
		}
		st, en, _ := wordValue(s, p, end)
		c := strings.IndexByte(s[st:en], ':')
		if c <= 0 || st+c+1 >= en || strings.HasPrefix(s[st+c+1:en], markerPrefix) {
			return end
		}
		*ms = append(*ms, match{start: st + c + 1, end: en, kind: KindPassword, prio: t.prio})
		return en
	}
	return end
}

// kvAt examines the identifier around a secret word (pass, pwd, secret,
// token, key) and, when it names a secret and is assigned a value, redacts
// the value: KEY=v, "key": "v", key: v, --key v, --key=v, key => v.
func (r *Redactor) kvAt(s string, i int, t *trigger, ms *[]match) int {
	ks := i
	for ks > 0 && r.keyChar[s[ks-1]] && i-ks < 256 {
		ks--
	}
	ke := i + len(t.prefix)
	for ke < len(s) && r.keyChar[s[ke]] && ke-i < 256 {
		ke++
	}
	if ks > 0 && r.keyChar[s[ks-1]] || ke < len(s) && r.keyChar[s[ke]] {
		return ke // an identifier too long to be a key
	}
	key := s[ks:ke]
	flag := strings.HasPrefix(key, "-")
	if flag && ks > 0 && !strings.ContainsRune(" \t\n\"'", rune(s[ks-1])) {
		return ke
	}
	var kind string
	if flag {
		kind = classifyFlag(key)
	} else {
		kind = classifyKey(strings.TrimRight(key, ".-"))
	}
	if kind == "" {
		return ke
	}
	p := ke
	quoted := false
	if !flag && ks > 0 && (s[ks-1] == '"' || s[ks-1] == '\'') && p < len(s) && s[p] == s[ks-1] {
		p++ // "key": or 'key' =>
		quoted = true
	}
	p = skipBlanks(s, p)
	switch {
	case strings.HasPrefix(s[p:], "=>"), strings.HasPrefix(s[p:], ":="):
		p += 2
	case p < len(s) && (s[p] == '=' || s[p] == ':'):
		if s[p] == ':' && strings.HasPrefix(s[p:], "://") {
			return ke
		}
		if s[p] == ':' && !quoted && strings.EqualFold(key, "auth") {
			return ke // "auth: fix clock skew" is a commit subject, not a credential
		}
		p++
	case flag && p > ke:
		// --password VALUE
	case p > ke && kind == KindPassword && netrc(s[max(0, ks-1024):min(len(s), ke+256)]):
		// .netrc: machine h login u password VALUE
	default:
		return ke
	}
	p = skipBlanks(s, p)
	if p >= len(s) {
		return ke
	}
	var st, en int
	envLine := false
	switch q := s[p]; q {
	case '"':
		st = p + 1
		en = st
		lim := min(len(s), st+8192)
		for en < lim && s[en] != '"' && s[en] != '\n' {
			if s[en] == '\\' {
				en++
			}
			en++
		}
		en = min(en, len(s))
	case '\'':
		st = p + 1
		j := strings.IndexAny(s[st:min(len(s), st+8192)], "'\n")
		if j < 0 {
			j = min(len(s), st+8192) - st
		}
		en = st + j
	default:
		st = p
		en = p
		stops := r.bareStop
		if envLine = lineStart(s, ks) && p == ke+1 && s[ke] == '='; envLine {
			// .env and shell assignment lines: the value runs to the next
			// blank, & ; ( included (Django keys hold them).
			stops = r.blank
		}
		for en < len(s) && !stops[s[en]] {
			en++
		}
	}
	// Keys inside the value are examined in turn (password= api_key=x).
	// This stays linear: a long quoted value has no quote of its kind
	// inside, so no trigger within it starts another long value of the
	// same kind.
	next := ke
	v := s[st:en]
	if envLine {
		if !secretEnvValue(v) {
			return next
		}
	} else if !secretValue(v) {
		return next
	}
	if kind == KindSecretVar && isAWSSecretKey(key) {
		kind = KindAWSSecretKey
	}
	*ms = append(*ms, match{start: st, end: en, kind: kind, prio: t.prio})
	return next
}

// lineStart reports whether the key at ks starts a line, optionally after
// "export ".
func lineStart(s string, ks int) bool {
	j := ks
	if j >= 7 && s[j-7:j] == "export " {
		j -= 7
	}
	for j > 0 && (s[j-1] == ' ' || s[j-1] == '\t') {
		j--
	}
	return j == 0 || s[j-1] == '\n'
}

// netrc reports text that looks like a .netrc file.
func netrc(s string) bool {
	return strings.Contains(s, "machine ") && (strings.Contains(s, "login ") || strings.Contains(s, "password "))
}

// echoPipeAt redacts a password echoed into su or sudo -S:
// echo 'toor' | su - root -c ..., printf 'pw\n' | sudo -S cmd.
func (r *Redactor) echoPipeAt(s string, i int, t *trigger, ms *[]match) int {
	if i > 0 && r.word[s[i-1]] {
		return i + 1
	}
	end := min(len(s), i+4096)
	if nl := strings.IndexByte(s[i:end], '\n'); nl >= 0 {
		end = i + nl
	}
	p := skipBlanks(s, i+len(t.prefix))
	for p+1 < end && s[p] == '-' && (s[p+1] == 'n' || s[p+1] == 'e' || s[p+1] == 'E') {
		for p < end && s[p] != ' ' {
			p++
		}
		p = skipBlanks(s, p)
	}
	st, en, next := wordValue(s, p, end)
	q := skipBlanks(s, next)
	if q >= end || s[q] != '|' || q+1 < end && s[q+1] == '|' {
		return max(next, i+len(t.prefix))
	}
	q = skipBlanks(s, q+1)
	rest := s[q:end]
	target := false
	switch {
	case strings.HasPrefix(rest, "su ") || rest == "su" || strings.HasPrefix(rest, "su\t"):
		target = true
	case strings.HasPrefix(rest, "sudo "):
		cmd := rest
		if j := strings.IndexAny(cmd, ";&|"); j >= 0 {
			cmd = cmd[:j]
		}
		target = strings.Contains(cmd, " -S") || strings.Contains(cmd, "--stdin")
	}
	v := strings.TrimSuffix(s[st:en], "\\n")
	if !target || len(v) == 0 || strings.HasPrefix(v, markerPrefix) {
		return max(next, i+len(t.prefix))
	}
	*ms = append(*ms, match{start: st, end: st + len(v), kind: KindPassword, prio: t.prio})
	return en
}

// isAWSSecretKey recognises aws_secret_access_key and friends.
func isAWSSecretKey(key string) bool {
	for _, sub := range []string{"secret_access_key", "secretaccesskey", "aws_secret", "aws-secret"} {
		for i := 0; i+len(sub) <= len(key); i++ {
			if hasPrefixFold(key[i:], sub) {
				return true
			}
		}
	}
	return false
}
