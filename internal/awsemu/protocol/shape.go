package protocol

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"time"
	"unicode"
	"unicode/utf8"
)

// MarshalShape encodes an SDK shape as awsJson for services whose SDK
// still uses generated (non-schema) deserializers: member names are the
// Go field names, lower-camel-cased when camel is true; unset pointers,
// slices and maps are omitted; timestamps are epoch seconds.
func MarshalShape(v any, camel bool) ([]byte, error) {
	var buf bytes.Buffer
	if err := encodeValue(&buf, reflect.ValueOf(v), camel); err != nil {
		return nil, fmt.Errorf("marshal shape: %w", err)
	}
	return buf.Bytes(), nil
}

var timeType = reflect.TypeOf(time.Time{})

func encodeValue(buf *bytes.Buffer, v reflect.Value, camel bool) error {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			buf.WriteString("null")
			return nil
		}
		return encodeValue(buf, v.Elem(), camel)
	case reflect.Struct:
		if v.Type() == timeType {
			t := v.Interface().(time.Time)
			buf.WriteString(strconv.FormatFloat(float64(t.UnixMilli())/1000, 'f', -1, 64))
			return nil
		}
		return encodeStruct(buf, v, camel)
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return writeJSON(buf, base64.StdEncoding.EncodeToString(v.Bytes()))
		}
		return encodeList(buf, v, camel)
	case reflect.Array:
		return encodeList(buf, v, camel)
	case reflect.Map:
		return encodeMap(buf, v, camel)
	default:
		return writeJSON(buf, v.Interface())
	}
}

func writeJSON(buf *bytes.Buffer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	buf.Write(b)
	return nil
}

func omitted(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface, reflect.Slice, reflect.Map:
		return v.IsNil()
	case reflect.String:
		return v.Len() == 0
	}
	return false
}

func encodeStruct(buf *bytes.Buffer, v reflect.Value, camel bool) error {
	buf.WriteByte('{')
	first := true
	for i := 0; i < v.NumField(); i++ {
		f := v.Type().Field(i)
		if !f.IsExported() || omitted(v.Field(i)) {
			continue
		}
		if !first {
			buf.WriteByte(',')
		}
		first = false
		if err := writeJSON(buf, memberName(f.Name, camel)); err != nil {
			return err
		}
		buf.WriteByte(':')
		if err := encodeValue(buf, v.Field(i), camel); err != nil {
			return err
		}
	}
	buf.WriteByte('}')
	return nil
}

func memberName(name string, camel bool) string {
	if !camel {
		return name
	}
	r, n := utf8.DecodeRuneInString(name)
	return string(unicode.ToLower(r)) + name[n:]
}

func encodeList(buf *bytes.Buffer, v reflect.Value, camel bool) error {
	buf.WriteByte('[')
	for i := 0; i < v.Len(); i++ {
		if i > 0 {
			buf.WriteByte(',')
		}
		if err := encodeValue(buf, v.Index(i), camel); err != nil {
			return err
		}
	}
	buf.WriteByte(']')
	return nil
}

func encodeMap(buf *bytes.Buffer, v reflect.Value, camel bool) error {
	buf.WriteByte('{')
	iter := v.MapRange()
	first := true
	for iter.Next() {
		if !first {
			buf.WriteByte(',')
		}
		first = false
		if err := writeJSON(buf, fmt.Sprint(iter.Key().Interface())); err != nil {
			return err
		}
		buf.WriteByte(':')
		if err := encodeValue(buf, iter.Value(), camel); err != nil {
			return err
		}
	}
	buf.WriteByte('}')
	return nil
}
