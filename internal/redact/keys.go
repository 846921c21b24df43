package redact

import "strings"

// maxSegs bounds the segments of a key name considered.
const maxSegs = 12

// splitKey splits an identifier into segments on _ . - and camelCase
// boundaries ("AWS_SECRET_ACCESS_KEY" → AWS SECRET ACCESS KEY,
// "clientSecret" → client Secret), as [start,end) offsets into key, without
// allocating. ok is false when there are more than maxSegs.
func splitKey(key string, segs *[maxSegs][2]int) (n int, ok bool) {
	start := 0
	flush := func(end int) bool {
		if end > start {
			if n == maxSegs {
				return false
			}
			segs[n] = [2]int{start, end}
			n++
		}
		return true
	}
	for i := 0; i < len(key); i++ {
		c := key[i]
		switch {
		case c == '_' || c == '.' || c == '-':
			if !flush(i) {
				return n, false
			}
			start = i + 1
		case c >= 'A' && c <= 'Z' && i > start && key[i-1] >= 'a' && key[i-1] <= 'z':
			if !flush(i) {
				return n, false
			}
			start = i
		}
	}
	return n, flush(len(key))
}

func hasSuffixFold(s, suffix string) bool {
	return len(s) >= len(suffix) && strings.EqualFold(s[len(s)-len(suffix):], suffix)
}

// stopAfter are segments that, right after a secret word, make the key
// name something about the secret rather than the secret itself
// (token_type, password_file, secretName, --password-stdin).
var stopAfter = []string{
	"name", "names", "ref", "type", "file", "files", "path", "dir", "id", "url", "uri", "endpoint",
	"length", "len", "size", "count", "expires", "expiry", "expiration", "ttl", "field", "env", "var",
	"prefix", "header", "stdin", "policy", "mode", "min", "max", "required", "enabled", "hint", "reset",
	"changed", "label", "format", "version", "manager", "store", "helper", "source", "provider", "kind",
	"class", "algorithm", "alg", "usage", "rotation", "location", "command", "cmd", "script", "prompt",
	"input", "fd", "strength", "validator", "placeholder", "regex", "pattern", "limit", "budget", "exists",
}

// keyPrefixes make a trailing "key" segment a secret (api_key, private_key).
var keyPrefixes = []string{
	"api", "private", "secret", "access", "encryption", "signing", "master", "client", "app", "auth",
	"license", "service", "account", "ssh", "deploy", "webhook", "session", "jwt", "hmac", "aes", "gpg",
	"pgp", "openai", "anthropic", "stripe", "aws", "gcp", "azure", "sendgrid", "mailgun", "twilio",
	"crypt", "cipher", "root", "admin", "x",
}

// inFold reports whether s equals one of list, ignoring ASCII case.
func inFold(s string, list []string) bool {
	for _, l := range list {
		if len(l) == len(s) && strings.EqualFold(l, s) {
			return true
		}
	}
	return false
}

var passwordWords = []string{"password", "passwd", "passphrase", "pwd", "pass", "passwords", "passcode"}

func isPasswordWord(s string) bool { return inFold(s, passwordWords) }

// isUpperIdent reports an all-caps identifier (env var style).
func isUpperIdent(s string) bool {
	letter := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' {
			return false
		}
		letter = letter || c >= 'A' && c <= 'Z'
	}
	return letter
}

// classifyKey decides whether the value of key is a secret, and which kind:
// "password" for a bare password/passwd/pwd key, "secret_var" for names
// containing TOKEN, SECRET, PASSWORD, PASSWD or API_KEY, or ending in
// _KEY; "" otherwise. It does not allocate.
func classifyKey(key string) string {
	key = strings.TrimLeft(key, "-")
	if key == "PWD" || key == "OLDPWD" {
		return "" // the shell's working directory variables
	}
	if strings.EqualFold(key, "auth") || key == "_auth" {
		return KindSecretVar // .npmrc _auth, docker config.json "auth": base64(user:pass)
	}
	var segs [maxSegs][2]int
	n, ok := splitKey(key, &segs)
	if !ok || n == 0 {
		return ""
	}
	upper := isUpperIdent(key)
	seg := func(i int) string { return key[segs[i][0]:segs[i][1]] }
	for i := 0; i < n; i++ {
		s := seg(i)
		secret := false
		switch {
		case isPasswordWord(s):
			if n == 1 {
				return KindPassword
			}
			secret = true
		case inFold(s, []string{"token", "secret", "secrets", "apikey", "privatekey", "secretkey", "accesskey"}),
			hasSuffixFold(s, "token") && len(s) > 5,
			hasSuffixFold(s, "secret") && len(s) > 6,
			hasSuffixFold(s, "password") && len(s) > 8:
			secret = true
		case strings.EqualFold(s, "key") || strings.EqualFold(s, "keys"):
			secret = i > 0 && (inFold(seg(i-1), keyPrefixes) || upper && !strings.EqualFold(seg(i-1), "public"))
		}
		if !secret {
			continue
		}
		if i+1 < n && inFold(seg(i+1), stopAfter) {
			return ""
		}
		return KindSecretVar
	}
	return ""
}

// classifyFlag classifies a command-line option name (without dashes).
func classifyFlag(name string) string {
	name = strings.TrimLeft(name, "-")
	switch strings.ToLower(name) {
	case "key", "keys", "keyfile", "key-file", "pass-file":
		return "" // file names, not secrets
	}
	return classifyKey(name)
}

// notSecrets are values that are never the secret itself.
var notSecrets = []string{
	"true", "false", "null", "none", "nil", "yes", "no", "undefined", "on", "off",
	"required", "optional", "str", "string", "int", "bool", "boolean", "bytes", "any",
	"number", "object", "dict", "list", "secret", "password", "token", "redacted", "hidden",
	"env", "prompt", "stdin", "file",
}

// secretEnvValue is secretValue for KEY=value lines (.env files, shell
// assignments), where parentheses and brackets inside the value are part
// of it rather than a sign of code.
func secretEnvValue(v string) bool { return secretValueCode(v, false) }

// secretValue rejects values that are not secrets: empty, booleans,
// references to other variables, templates, placeholders, type names and
// masked values.
func secretValue(v string) bool { return secretValueCode(v, true) }

func secretValueCode(v string, code bool) bool {
	if len(v) < 3 || strings.HasPrefix(v, markerPrefix) {
		return false
	}
	switch v[0] {
	case '$', '<', '%', '{', '[', '(', '-', '#':
		return false
	}
	if code && strings.ContainsAny(v, "([") {
		return false // os.getenv("X"), request.form['x']
	}
	if inFold(v, notSecrets) {
		return false
	}
	if strings.Trim(v, "*xX.•") == "" {
		return false
	}
	for _, p := range []string{"process.env", "os.environ", "env.", "secrets.", "vars."} {
		if hasPrefixFold(v, p) {
			return false
		}
	}
	return true
}
