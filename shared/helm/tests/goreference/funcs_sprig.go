//go:build sprig

// Built in GOPATH mode (GO111MODULE=off) against Debian's golang-github-masterminds-sprig-dev,
// whose import path has no /v3.

package main

import (
	"text/template"

	sprig "github.com/Masterminds/sprig"
)

// funcs is sprig's text function map as Helm 3 registers it: without env and expandenv.
func funcs() template.FuncMap {
	f := sprig.TxtFuncMap()
	delete(f, "env")
	delete(f, "expandenv")
	return f
}
