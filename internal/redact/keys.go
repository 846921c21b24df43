package redact

import "strings"

// splitKey splits an identifier into lower-case segments on _ . - and
// camelCase boundaries: "AWS_SECRET_ACCESS_KEY" → aws secret access key,
// "clientSecret" → client secret.
func splitKey(key string) []string {
	var segs []string
	start := 0
	flush := func(end int) {
		if end > start {
			segs = append(segs, strings.ToLower(key[start:end]))
		}
	}
	for i := 0; i < len(key); i++ {
		c := key[i]
		switch {
		case c == '_' || c == '.' || c == '-':
			flush(i)
			start = i + 1
		case c >= 'A' && c <= 'Z' && i > start && key[i-1] >= 'a' && key[i-1] <= 'z':
			flush(i)
			start = i
		}
	}
	flush(len(key))
	return segs
}

// stopAfter are segments that, right after a secret word, make the key
// name something about the secret rather than the secret itself
// (token_type, password_file, secretName, --password-stdin).
var stopAfter = map[string]bool{
	"name": true, "names": true, "ref": true, "type": true, "file": true, "files": true, "path": true,
	"dir": true, "id": true, "url": true, "uri": true, "endpoint": true, "length": true, "len": true,
	"size": true, "count": true, "expires": true, "expiry": true, "expiration": true, "ttl": true,
	"field": true, "env": true, "var": true, "prefix": true, "header": true, "stdin": true,
	"policy": true, "mode": true, "min": true, "max": true, "required": true, "enabled": true,
	"hint": true, "reset": true, "changed": true, "label": true, "format": true, "version": true,
	"manager": true, "store": true, "helper": true, "source": true, "provider": true, "kind": true,
	"class": true, "algorithm": true, "alg": true, "usage": true, "rotation": true, "location": true,
	"command": true, "cmd": true, "script": true, "prompt": true, "input": true, "fd": true,
	"strength": true, "validator": true, "placeholder": true, "regex": true, "pattern": true,
	"count_limit": true, "limit": true, "budget": true, "id_hint": true, "exists": true,
}

// keyPrefixes make a trailing "key" segment a secret (api_key, private_key).
var keyPrefixes = map[string]bool{
	"api": true, "private": true, "secret": true, "access": true, "encryption": true, "signing": true,
	"master": true, "client": true, "app": true, "auth": true, "license": true, "service": true,
	"account": true, "ssh": true, "deploy": true, "webhook": true, "session": true, "jwt": true,
	"hmac": true, "aes": true, "gpg": true, "pgp": true, "openai": true, "anthropic": true,
	"stripe": true, "aws": true, "gcp": true, "azure": true, "sendgrid": true, "mailgun": true,
	"twilio": true, "crypt": true, "cipher": true, "root": true, "admin": true, "x": true,
}

func isPasswordWord(s string) bool {
	switch s {
	case "password", "passwd", "passphrase", "pwd", "pass", "passwords", "passcode":
		return true
	}
	return false
}

// classifyKey decides whether the value of key is a secret, and which kind:
// "password" for a bare password/passwd/pwd key, "secret_var" for names
// containing TOKEN, SECRET, PASSWORD, PASSWD or API_KEY, or ending in
// _KEY; "" otherwise.
func classifyKey(key string) string {
	key = strings.TrimLeft(key, "-")
	if key == "PWD" || key == "OLDPWD" {
		return "" // the shell's working directory variables
	}
	segs := splitKey(key)
	if len(segs) == 0 || len(segs) > 12 {
		return ""
	}
	upper := strings.ToUpper(key) == key && strings.ContainsAny(key, "ABCDEFGHIJKLMNOPQRSTUVWXYZ")
	for i, s := range segs {
		next := ""
		if i+1 < len(segs) {
			next = segs[i+1]
		}
		secret := false
		switch {
		case isPasswordWord(s):
			if len(segs) == 1 {
				return KindPassword
			}
			secret = true
		case s == "token" || s == "secret" || s == "secrets" || s == "apikey" || s == "passwd" ||
			strings.HasSuffix(s, "token") && len(s) > 5 && !strings.HasSuffix(s, "tokens") ||
			strings.HasSuffix(s, "secret") && len(s) > 6 ||
			strings.HasSuffix(s, "password") && len(s) > 8 ||
			s == "privatekey" || s == "secretkey" || s == "accesskey":
			secret = true
		case s == "key" || s == "keys":
			prev := ""
			if i > 0 {
				prev = segs[i-1]
			}
			secret = keyPrefixes[prev] || (upper && i > 0)
		}
		if !secret {
			continue
		}
		if stopAfter[next] {
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

// secretValue rejects values that are not secrets: empty, booleans,
// references to other variables, templates, placeholders, type names and
// masked values.
func secretValue(v string) bool {
	if len(v) < 3 || strings.HasPrefix(v, markerPrefix) {
		return false
	}
	switch v[0] {
	case '$', '<', '%', '{', '[', '(', '-', '#':
		return false
	}
	if strings.ContainsAny(v, "([") {
		return false // os.getenv("X"), request.form['x']
	}
	switch strings.ToLower(v) {
	case "true", "false", "null", "none", "nil", "yes", "no", "undefined", "on", "off",
		"required", "optional", "str", "string", "int", "bool", "boolean", "bytes", "any",
		"number", "object", "dict", "list", "secret", "password", "token", "redacted", "hidden",
		"env", "prompt", "stdin", "file":
		return false
	}
	if strings.Trim(v, "*xX.•") == "" {
		return false
	}
	lv := strings.ToLower(v)
	for _, p := range []string{"process.env", "os.environ", "env.", "secrets.", "vars."} {
		if strings.HasPrefix(lv, p) {
			return false
		}
	}
	return true
}
