package kubejournal

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
)

// The labels and annotations of the journal's objects.
const (
	// LabelJournal names the journal an object belongs to.
	LabelJournal = "jibe.dev/journal"
	// LabelPart is the hash of the object's part (hash8), on the part's
	// object and its spilled records' objects.
	LabelPart = "jibe.dev/part"
	// LabelSpill marks an object of spilled records ("true").
	LabelSpill = "jibe.dev/spill"
	// LabelSource and LabelApp are the application's source and name, as
	// they are when valid label values, else sanitised with a hash.
	LabelSource = "jibe.dev/source"
	LabelApp    = "jibe.dev/app"
	// AnnotationPart, AnnotationSource and AnnotationApp hold the exact
	// part, source and application name.
	AnnotationPart   = "jibe.dev/part"
	AnnotationSource = "jibe.dev/source"
	AnnotationApp    = "jibe.dev/app"
	// AnnotationWriter is the identity of the agent that may write the
	// part (set by Claim); AnnotationClaimed is when it claimed it.
	AnnotationWriter  = "jibe.dev/writer"
	AnnotationClaimed = "jibe.dev/claimed"
)

// hash8 is the first 8 hex digits of s's SHA-256.
func hash8(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:4])
}

// shared reports whether part holds no single application's records
// (reconcile.PartActions, PartSources): any agent writes it, unfenced.
func shared(part string) bool { return strings.HasPrefix(part, "_") }

// splitPart returns the source and application of an application's part
// (AppID.String()).
func splitPart(part string) (source, app string) {
	if shared(part) {
		return "", ""
	}
	if s, a, ok := strings.Cut(part, "/"); ok {
		return s, a
	}
	return "", part
}

// objectName returns the name of part's object in journal name:
// <name>-journal-<source>-<app>-<hash8>, sanitised as a DNS subdomain.
func objectName(name, part string) string {
	h := hash8(part)
	readable := sanitize(part)
	room := validation.DNS1123SubdomainMaxLength - len(name) - len("-journal--") - len(h) - len("-12345678")
	if len(readable) > room {
		readable = strings.Trim(readable[:max(room, 0)], "-")
	}
	if readable == "" {
		return fmt.Sprintf("%s-journal-%s", name, h)
	}
	return fmt.Sprintf("%s-journal-%s-%s", name, readable, h)
}

// sanitize lowercases s and turns every run of characters a DNS label
// does not allow into one dash.
func sanitize(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
			dash = false
			continue
		}
		if !dash {
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.Trim(b.String(), "-")
}

// labelValue returns v when it is a valid label value, else its
// sanitised form with a hash.
func labelValue(v string) string {
	if len(validation.IsValidLabelValue(v)) == 0 {
		return v
	}
	s := sanitize(v)
	if len(s) > 50 {
		s = strings.Trim(s[:50], "-")
	}
	if s == "" {
		return "h-" + hash8(v)
	}
	return s + "-" + hash8(v)
}

// dataKey returns the ConfigMap data key of bucket's key in part:
// bucket.rest for a key part/rest ("rollouts.production.abc1234"), or
// bucket_.key for a key outside the part's prefix ("holds_.pause.shop").
// In rest and key, a slash becomes a dot and every byte a data key does
// not allow (dots and underscores included) becomes _XX, reversibly.
func dataKey(part, bucket, key string) (string, error) {
	if !validBucket(bucket) {
		return "", fmt.Errorf("journal bucket %q: only letters and digits are allowed", bucket)
	}
	var dk string
	if rest, ok := strings.CutPrefix(key, part+"/"); ok && part != "" {
		dk = bucket + "." + escape(rest)
	} else {
		dk = bucket + "_." + escape(key)
	}
	if len(dk) > validation.DNS1123SubdomainMaxLength {
		return "", fmt.Errorf("journal key %s of bucket %s is too long for a ConfigMap key (%d characters escaped, at most %d)",
			key, bucket, len(dk), validation.DNS1123SubdomainMaxLength)
	}
	return dk, nil
}

// parseDataKey reverses dataKey.
func parseDataKey(part, dk string) (bucket, key string, err error) {
	head, rest, ok := strings.Cut(dk, ".")
	if !ok {
		return "", "", fmt.Errorf("data key %q is not bucket.key", dk)
	}
	key, err = unescape(rest)
	if err != nil {
		return "", "", fmt.Errorf("data key %q: %w", dk, err)
	}
	if b, abs := strings.CutSuffix(head, "_"); abs {
		return b, key, nil
	}
	return head, part + "/" + key, nil
}

func validBucket(b string) bool {
	for _, r := range b {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return b != ""
}

func escape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-':
			b.WriteByte(c)
		case c == '/':
			b.WriteByte('.')
		default:
			fmt.Fprintf(&b, "_%02x", c)
		}
	}
	return b.String()
}

func unescape(s string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '.':
			b.WriteByte('/')
		case '_':
			if i+3 > len(s) {
				return "", fmt.Errorf("truncated escape at %d", i)
			}
			v, err := hex.DecodeString(s[i+1 : i+3])
			if err != nil {
				return "", fmt.Errorf("bad escape at %d: %w", i, err)
			}
			b.WriteByte(v[0])
			i += 2
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}

// partMeta returns the labels and annotations of part's objects.
func partMeta(name, part string) (labels, annotations map[string]string) {
	labels = map[string]string{LabelJournal: name, LabelPart: hash8(part)}
	annotations = map[string]string{AnnotationPart: part}
	if source, app := splitPart(part); app != "" {
		labels[LabelApp], annotations[AnnotationApp] = labelValue(app), app
		if source != "" {
			labels[LabelSource], annotations[AnnotationSource] = labelValue(source), source
		}
	}
	return labels, annotations
}
