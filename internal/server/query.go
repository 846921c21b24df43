package server

import (
	"errors"

	"github.com/vigil-sec/vigil/internal/store"
)

// parseQuery compiles the LogQL subset. Wired to internal/query when it lands.
func parseQuery(q string) (store.Filter, error) {
	return store.Filter{}, errors.New("query language not available yet")
}
