package protocol

import (
	"encoding/base64"
	"strconv"
)

// Page returns the window of n items starting at the position encoded in
// token, and the token of the next window ("" on the last page). A max of
// zero or less means def. Tokens are opaque to clients.
func Page(n int, token string, max, def int) (start, end int, next string, err error) {
	if max <= 0 {
		max = def
	}
	if token != "" {
		b, derr := base64.RawURLEncoding.DecodeString(token)
		start, err = strconv.Atoi(string(b))
		if derr != nil || err != nil || start < 0 || start > n {
			return 0, 0, "", Errorf("InvalidParameterException", "invalid pagination token")
		}
	}
	end = min(start+max, n)
	if end < n {
		next = base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(end)))
	}
	return start, end, next, nil
}
