package spec

import "reflect"

// deepCopy returns a copy of v that shares no pointer, slice, map or
// interface value with it, so that resolving placeholders in the copy
// leaves v as written. Unexported fields are copied as they are.
func deepCopy[T any](v T) T {
	var out T
	copyValue(reflect.ValueOf(&out).Elem(), reflect.ValueOf(&v).Elem())
	return out
}

// copyValue sets dst, a settable zero value, to a deep copy of src.
func copyValue(dst, src reflect.Value) {
	switch src.Kind() {
	case reflect.Pointer:
		if !src.IsNil() {
			dst.Set(reflect.New(src.Type().Elem()))
			copyValue(dst.Elem(), src.Elem())
		}
	case reflect.Struct:
		dst.Set(src)
		for i := range src.NumField() {
			if f := dst.Field(i); f.CanSet() {
				f.SetZero()
				copyValue(f, src.Field(i))
			}
		}
	case reflect.Slice:
		if !src.IsNil() {
			dst.Set(reflect.MakeSlice(src.Type(), src.Len(), src.Len()))
			for i := range src.Len() {
				copyValue(dst.Index(i), src.Index(i))
			}
		}
	case reflect.Map:
		copyMap(dst, src)
	case reflect.Interface:
		if !src.IsNil() {
			elem := reflect.New(src.Elem().Type()).Elem()
			copyValue(elem, src.Elem())
			dst.Set(elem)
		}
	default:
		dst.Set(src)
	}
}

func copyMap(dst, src reflect.Value) {
	if src.IsNil() {
		return
	}
	dst.Set(reflect.MakeMapWithSize(src.Type(), src.Len()))
	iter := src.MapRange()
	for iter.Next() {
		elem := reflect.New(src.Type().Elem()).Elem()
		copyValue(elem, iter.Value())
		dst.SetMapIndex(iter.Key(), elem)
	}
}
