package apptest

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// secretCases: one per kind of secret DESIGN.md lists. Each secret is made
// up but shaped like the real thing.
var secretCases = []struct {
	kind, secret, command string
}{
	{"aws_access_key", "AKIAZ3MXQ2V7LPR4TN6K", "aws configure set aws_access_key_id AKIAZ3MXQ2V7LPR4TN6K"},
	{"aws_secret_key", "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", "export AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMIK7MDENGbPxRfiCYzQ9kLm3XpT8v"},
	{"github_token", "ghp_R8nK2mQ7vX4pL9sT3wY6zB1cD5fG0hJ8kM2n", "git clone https://x-access-token:ghp_R8nK2mQ7vX4pL9sT3wY6zB1cD5fG0hJ8kM2n@github.com/acme/api.git"},
	{"gitlab_token", "glpat-Zq8Xv3Lm9Rt2Wp6Ys1Kd", "curl --header 'PRIVATE-TOKEN: glpat-Zq8Xv3Lm9Rt2Wp6Ys1Kd' https://gitlab.example.com/api/v4/projects"},
	{"slack_token", "xoxb-4820573916-5937204816-Jq7Lm2Xv9Rt4Wp8Ys3Kd6Fh1", "SLACK=xoxb-4820573916-5937204816-Jq7Lm2Xv9Rt4Wp8Ys3Kd6Fh1 node notify.js"},
	{"jwt", "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ1c2VyLTQyIiwicm9sZSI6ImFkbWluIn0.Qm9vS2VlcGVyU2lnbmF0dXJlWHl6MTIzNDU2Nzg", "curl -s https://api.example.com/me -b session=eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ1c2VyLTQyIiwicm9sZSI6ImFkbWluIn0.Qm9vS2VlcGVyU2lnbmF0dXJlWHl6MTIzNDU2Nzg"},
	{"private_key", "MIIEowIBAAKCAQEAx9Jq7Lm2Xv9Rt4Wp8Ys3Kd6Fh1Zq8Xv3Lm9Rt2Wp6Ys1KdQ", "cat > deploy.pem <<'EOF'\n-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAx9Jq7Lm2Xv9Rt4Wp8Ys3Kd6Fh1Zq8Xv3Lm9Rt2Wp6Ys1KdQ\n-----END RSA PRIVATE KEY-----\nEOF"},
	{"password", "Hunter2-Correct-Horse", "./bin/seed --db-host localhost password=Hunter2-Correct-Horse"},
	{"mysql_password", "S3cr3tPassw0rd", "mysql -u root -pS3cr3tPassw0rd shop < dump.sql"},
	{"authorization_header", "Zq8Xv3Lm9Rt2Wp6Ys1KdQm4Nf7Bh", "curl -H 'Authorization: Bearer Zq8Xv3Lm9Rt2Wp6Ys1KdQm4Nf7Bh' https://api.example.com/v1/orders"},
	{"url_credentials", "Pa55w0rdXyz", "git remote add deploy https://deploy:Pa55w0rdXyz@git.example.com/shop.git"},
	{"secret_var", "f9c2e7a41b8d3c6e", "DATABASE_PASSWORD=f9c2e7a41b8d3c6e npm run migrate"},
}

// TestSecretsNeverReachDisk: for every kind of secret, the hook redacts it
// before the spool, so neither the spool, the stored events nor the
// database files hold it; the event records which kind was removed.
func TestSecretsNeverReachDisk(t *testing.T) {
	in := newInstance(t)
	for i, c := range secretCases {
		payload, _ := json.Marshal(map[string]any{
			"session_id": "redact-session", "cwd": "/home/dev/projects/shop", "hook_event_name": "PreToolUse",
			"tool_name": "Bash", "tool_use_id": "toolu_" + c.kind, "transcript_path": "/home/dev/.claude/projects/x/y.jsonl",
			"tool_input": map[string]any{"command": c.command, "description": "step " + string(rune('a'+i))},
		})
		in.hook(payload)
	}
	// Secrets in a prompt and in an MCP tool's arbitrary input, too.
	prompt, _ := json.Marshal(map[string]any{"session_id": "redact-session", "cwd": "/home/dev/projects/shop",
		"hook_event_name": "UserPromptSubmit", "prompt": "use token ghp_R8nK2mQ7vX4pL9sT3wY6zB1cD5fG0hJ8kM2n to push"})
	in.hook(prompt)
	mcp, _ := json.Marshal(map[string]any{"session_id": "redact-session", "cwd": "/home/dev/projects/shop",
		"hook_event_name": "PreToolUse", "tool_name": "mcp__vault__put", "tool_use_id": "toolu_mcp",
		"tool_input": map[string]any{"path": "kv/app", "api_key": "f9c2e7a41b8d3c6e", "note": "AKIAZ3MXQ2V7LPR4TN6K"}})
	in.hook(mcp)

	srv := in.serve()
	srv.waitEvents(int64(len(secretCases)+2), 20*time.Second)
	events := srv.events("")
	srv.stop()

	var disk [][]byte
	disk = append(disk, readSpool(t, in.home)...)
	for _, f := range []string{"vigil.db", "vigil.db-wal"} {
		if b, err := os.ReadFile(filepath.Join(in.home, f)); err == nil {
			disk = append(disk, b)
		}
	}
	stored, _ := json.Marshal(events)
	for _, c := range secretCases {
		if bytes.Contains(stored, []byte(c.secret)) {
			t.Errorf("%s: secret present in stored events", c.kind)
		}
		for _, d := range disk {
			if bytes.Contains(d, []byte(c.secret)) {
				t.Errorf("%s: secret present on disk", c.kind)
			}
		}
	}
	byTool := map[string]map[string]any{}
	for _, e := range events {
		if id, _ := e["tool_use_id"].(string); id != "" {
			byTool[id] = e
		}
	}
	for _, c := range secretCases {
		e := byTool["toolu_"+c.kind]
		if e == nil {
			t.Errorf("%s: event missing", c.kind)
			continue
		}
		flags, _ := e["security_flags"].(map[string]any)
		kinds, _ := json.Marshal(flags["redactions"])
		if !strings.Contains(string(kinds), `"`+c.kind+`"`) {
			t.Errorf("%s: redactions = %s, want it listed", c.kind, kinds)
		}
		cmd, _ := e["action_details"].(map[string]any)["command"].(string)
		if !strings.Contains(cmd, "[REDACTED:") {
			t.Errorf("%s: command %q has no redaction marker", c.kind, cmd)
		}
	}
}
