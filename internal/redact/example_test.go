package redact_test

import (
	"fmt"

	"github.com/vigil-sec/vigil/internal/redact"
)

func ExampleRedactor_String() {
	r := redact.New()
	s, kinds := r.String(`mysql -uroot -pS3cret shop && curl -H "Authorization: Bearer 9f8e7d6c5b4a3928" https://deploy:tok3n@git.example.com`)
	fmt.Println(s)
	fmt.Println(kinds)
	// Output:
	// mysql -uroot -p[REDACTED:mysql_password] shop && curl -H "Authorization: Bearer [REDACTED:authorization_header]" https://deploy:[REDACTED:url_credentials]@git.example.com
	// [authorization_header mysql_password url_credentials]
}

func ExampleRedactor_JSON() {
	r := redact.New()
	out, kinds := r.JSON([]byte(`{"repo": "shop", "api_key": "k-123456", "headers": {"Authorization": "Bearer abcdef123456"}}`))
	fmt.Println(string(out))
	fmt.Println(kinds)
	// Output:
	// {"repo":"shop","api_key":"[REDACTED:secret_var]","headers":{"Authorization":"Bearer [REDACTED:authorization_header]"}}
	// [authorization_header secret_var]
}
