package server

import (
	"fmt"
	"net/http"
)

// writeError answers with a JSON error naming what went wrong.
func writeError(w http.ResponseWriter, code int, format string, args ...any) {
	writeJSON(w, code, map[string]string{"error": fmt.Sprintf(format, args...)})
}
