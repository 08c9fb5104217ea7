// Package credential recognises text that looks like a credential (an
// access token, a key, a private key), so that it can be refused without
// being printed where a name belongs, such as the name of an environment
// variable or of a file that should hold the secret.
package credential

import (
	"math"
	"regexp"
	"strings"
)

// prefixes start well-known tokens: GitHub's (ghp_, gho_, ghu_, ghs_,
// ghr_, github_pat_), GitLab's (glpat-), Slack's (xoxb-, xoxp-...) and
// npm's (npm_).
var prefixRE = regexp.MustCompile(`^(gh[pousr]_|github_pat_|glpat-|xox[a-z]-|npm_)[A-Za-z0-9_-]{16,}`)

// awsKeyIDRE is an AWS access key ID, long-term (AKIA) or temporary (ASIA).
var awsKeyIDRE = regexp.MustCompile(`^(AKIA|ASIA)[A-Z0-9]{16}$`)

// Minimums of a word that looks random: its length, its entropy in bits
// per character, and how often consecutive characters change class
// (lower case, upper case, digit), as a fraction of its length. Random
// hex or base64 of 16 characters or more scores about 3.5 bits and 0.5
// changes per character; names score less, their digits coming in one
// run such as PRODUCTION2024.
const (
	minRandomLen     = 16
	minRandomEntropy = 3.3
	minClassChanges  = 0.25
)

// Looks reports whether s looks like a credential rather than a name: it
// holds a private key, a URL (whose path or user part is often the
// secret, as in webhook URLs), a token with a well-known prefix, an AWS
// access key ID, or a long random-looking word.
func Looks(s string) bool {
	return looks(s, true)
}

// LooksInPath is Looks for a file path. Random-looking words are only
// suspect in a relative path: an absolute path was written as a path, and
// may go through folders named by hashes.
func LooksInPath(p string) bool {
	return looks(p, !strings.HasPrefix(p, "/"))
}

func looks(s string, random bool) bool {
	if strings.Contains(s, "-----BEGIN") || strings.Contains(s, "://") {
		return true
	}
	for _, part := range strings.FieldsFunc(s, isPathSeparator) {
		if prefixRE.MatchString(part) || awsKeyIDRE.MatchString(part) {
			return true
		}
		if random && hasRandomWord(part) {
			return true
		}
	}
	return false
}

// hasRandomWord reports whether a word of s (split at _, - and .) looks
// random.
func hasRandomWord(s string) bool {
	for _, word := range strings.FieldsFunc(s, isWordSeparator) {
		if Random(word) {
			return true
		}
	}
	return false
}

// Random reports whether word looks randomly generated: long enough,
// mixing letters and digits throughout, with a high entropy per
// character.
func Random(word string) bool {
	if len(word) < minRandomLen {
		return false
	}
	letters := strings.IndexFunc(word, isLetter) >= 0
	digits := strings.IndexFunc(word, isDigit) >= 0
	return letters && digits && float64(classChanges(word)) >= minClassChanges*float64(len(word)) &&
		entropy(word) >= minRandomEntropy
}

// classChanges counts the consecutive characters of s that differ in
// class: lower case, upper case, digit or other.
func classChanges(s string) int {
	n := 0
	for i := 1; i < len(s); i++ {
		if class(s[i]) != class(s[i-1]) {
			n++
		}
	}
	return n
}

func class(b byte) int {
	switch {
	case b >= 'a' && b <= 'z':
		return 1
	case b >= 'A' && b <= 'Z':
		return 2
	case b >= '0' && b <= '9':
		return 3
	}
	return 0
}

// entropy returns the Shannon entropy of s's bytes, in bits per byte.
func entropy(s string) float64 {
	var counts [256]int
	for i := 0; i < len(s); i++ {
		counts[s[i]]++
	}
	var h float64
	n := float64(len(s))
	for _, c := range counts {
		if c > 0 {
			p := float64(c) / n
			h -= p * math.Log2(p)
		}
	}
	return h
}

func isPathSeparator(r rune) bool {
	return r == '/' || r == '\\' || r == ' ' || r == '\t' || r == '\n' || r == '\r'
}

// isWordSeparator splits names into words: MY_TOKEN_FILE, app-key.pem.
func isWordSeparator(r rune) bool { return r == '_' || r == '-' || r == '.' }

func isLetter(r rune) bool { return r < 128 && (class(byte(r)) == 1 || class(byte(r)) == 2) }

func isDigit(r rune) bool { return r < 128 && class(byte(r)) == 3 }
