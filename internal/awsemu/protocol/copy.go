package protocol

import (
	"encoding/json"
	"fmt"
)

// Copy copies the fields src and dst share by Go name, except skip. The
// SDK's input and output shapes share member names, so this carries every
// field a client sent into the stored shape without listing them. dst
// receives fresh values: nothing is shared with src.
func Copy(src, dst any, skip ...string) error {
	m, err := fields(src)
	if err != nil {
		return err
	}
	for _, k := range skip {
		delete(m, k)
	}
	return store(m, dst)
}

// Overlay writes into dst (a zero value) the fields of base replaced by
// every field set in patch (non-null, non-empty), except skip: the
// partial-update semantics of Update* operations, where a structure given
// in the request replaces the stored one as a whole.
func Overlay(base, patch, dst any, skip ...string) error {
	m, err := fields(base)
	if err != nil {
		return err
	}
	p, err := fields(patch)
	if err != nil {
		return err
	}
	for _, k := range skip {
		delete(p, k)
	}
	for k, v := range p {
		if string(v) != "null" && string(v) != `""` {
			m[k] = v
		}
	}
	return store(m, dst)
}

func fields(v any) (map[string]json.RawMessage, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("copy fields: %w", err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("copy fields: %w", err)
	}
	return m, nil
}

func store(m map[string]json.RawMessage, dst any) error {
	b, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("copy fields: %w", err)
	}
	if err := json.Unmarshal(b, dst); err != nil {
		return fmt.Errorf("copy fields: %w", err)
	}
	return nil
}
