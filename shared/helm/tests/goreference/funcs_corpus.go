//go:build !sprig

package main

import (
	"errors"
	"fmt"
	"text/template"
)

// funcs are the helpers the template corpus calls to test errors and function values.
func funcs() template.FuncMap {
	return template.FuncMap{
		"fail": func() (string, error) { return "", errors.New("boom") },
		"joiner": func() interface{} {
			return func(args ...interface{}) (interface{}, error) { return fmt.Sprint(args...), nil }
		},
		"failer": func() interface{} {
			return func(args ...interface{}) (interface{}, error) { return nil, errors.New("inner boom") }
		},
		"echo": func(args ...interface{}) interface{} {
			if len(args) == 0 {
				return nil
			}
			return args[len(args)-1]
		},
	}
}
