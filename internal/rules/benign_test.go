package rules

import (
	"testing"
)

// TestEverydayCommandsStayQuiet: ordinary development commands must not
// raise HIGH or CRITICAL alerts (the corpus counts those as false
// positives).
func TestEverydayCommandsStayQuiet(t *testing.T) {
	cmds := []string{
		"npm ci && npm run build",
		"npm install --save-dev @types/node",
		"yarn test --watch=false",
		"pnpm -r build",
		"go test ./... -race -count=1",
		"go mod download && go build -o bin/app ./cmd/app",
		"cargo build --release && cargo clippy -- -D warnings",
		"python -m venv .venv && . .venv/bin/activate && pip install -r requirements.txt",
		"pytest -q tests/ -k 'not slow'",
		"make -j4 && make test",
		"docker build -t app:dev . && docker run --rm -p 8080:8080 app:dev",
		"docker compose up -d postgres redis",
		"docker system prune -af",
		"kubectl get pods -n staging -o wide",
		"kubectl logs deploy/api -n staging --tail=100",
		"kubectl delete pod api-7d9f -n staging",
		"helm template charts/app | kubectl diff -f -",
		"terraform plan -out tf.plan",
		"git status && git diff --stat",
		"git checkout -b fix/timeout && git commit -am 'fix: timeout' && git push -u origin fix/timeout",
		"git fetch origin && git rebase origin/main",
		"git push --force-with-lease origin feature/login",
		"git reset --soft HEAD~1",
		"git stash && git pull --rebase && git stash pop",
		"git log --oneline -20 | grep -i revert",
		"git clean -fdx -e .env",
		"rm -rf dist build coverage .turbo",
		"rm -rf ~/.cache/pip ~/.npm/_cacache",
		"find . -name '*.orig' -delete",
		"find src -type f -name '*.ts' | xargs grep -l 'any'",
		"grep -rn 'password' src/ tests/",
		"rg -n 'TODO|FIXME' --glob '!vendor'",
		"sed -i 's/v1/v2/g' src/api/client.ts",
		"awk -F, '{print $2}' data/sample.csv | sort | uniq -c",
		"jq '.dependencies' package.json",
		"curl -s https://api.github.com/repos/golang/go/releases/latest | jq -r .tag_name",
		"curl -fsSL https://raw.githubusercontent.com/o/r/main/README.md -o docs/upstream.md",
		"curl -s -X POST localhost:3000/api/login -H 'Content-Type: application/json' -d '{\"user\":\"a\",\"pass\":\"b\"}'",
		"curl -s -X POST http://127.0.0.1:8080/upload -F file=@tests/fixtures/img.png",
		"wget -q https://example.com/data.csv -O data/raw.csv",
		"ssh-keygen -t ed25519 -f ./test/keys/id_test -N ''",
		"chmod +x scripts/*.sh && ./scripts/lint.sh",
		"chmod 600 .env.local",
		"ls -la ~ && du -sh ~/.cache",
		"echo $PATH | tr ':' '\\n'",
		"env | grep -i node",
		"which python3 && python3 --version",
		"psql -h localhost -U app -c 'select count(*) from users'",
		"psql -h localhost -c 'DROP TABLE IF EXISTS tmp_import'",
		"redis-cli -h localhost ping",
		"nc -zv localhost 5432",
		"openssl rand -hex 32",
		"openssl req -x509 -newkey rsa:2048 -keyout tests/key.pem -out tests/cert.pem -days 1 -nodes -subj /CN=localhost",
		"base64 -d tests/fixtures/blob.b64 > tests/fixtures/blob.bin",
		"echo 'export const x = 1' >> src/consts.ts",
		"tar czf release.tgz dist/",
		"unzip -o vendor.zip -d vendor/",
		"sudo apt-get install -y graphviz",
		"brew install jq",
		"npx prettier --write 'src/**/*.{ts,tsx}'",
		"python3 -c \"import json,sys; print(json.load(open('package.json'))['version'])\"",
		"node -e \"console.log(require('./package.json').version)\"",
		"bash scripts/test.sh --ci",
		"sh -c 'cd web && npm test'",
		"timeout 60 npm run e2e",
		"nohup npm run dev > /tmp/dev.log 2>&1 &",
		"kill %1",
		"pkill -f 'next dev'",
		"lsof -i :3000",
		"systemctl --user status pipewire",
		"crontab -l",
		"history | tail -20",
		"cat /etc/os-release",
		"cat ~/.gitconfig",
		"code .",
		"gh pr create --fill",
		"gh auth status",
		"aws s3 ls s3://my-bucket/",
		"gcloud config list",
		"rsync -av --delete ./public/ ./dist/public/",
		"scp build.log localhost:/tmp/",
		"mkdir -p ~/.config/app && cp config.example.toml ~/.config/app/config.toml",
	}
	eng := loadDefaults(t)
	for _, c := range cmds {
		for _, m := range eng.Evaluate(bashEvent(c)) {
			if m.Severity >= High {
				t.Errorf("%q: %s %s (%s)", c, m.RuleID, m.Severity, m.Summary)
			}
		}
	}
}
