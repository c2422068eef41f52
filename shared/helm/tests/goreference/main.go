// Reference runner for the weir-helm corpus: reads a JSON array of cases on stdin, runs each
// through Go's text/template and prints a JSON array of results. Data is decoded with
// encoding/json into interface{}, so numbers are float64 as in Helm.
//
// The template functions come from funcs_corpus.go (the corpus's own helpers), or, built with
// `-tags sprig`, from funcs_sprig.go (Masterminds/sprig as Helm 3 registers it).
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"text/template"
)

type namedText struct {
	Name string `json:"name"`
	Text string `json:"text"`
}

type testCase struct {
	Name     string          `json:"name"`
	Template string          `json:"template"`
	Data     json.RawMessage `json:"data"`
	Also     []namedText     `json:"also"`
	Exec     string          `json:"exec"`
	Option   string          `json:"option"`
}

type result struct {
	Name   string `json:"name"`
	Output string `json:"output"`
	Error  string `json:"error"`
	Failed bool   `json:"failed"`
}

func run(c testCase) (res result) {
	res.Name = c.Name
	defer func() {
		if r := recover(); r != nil {
			res.Failed = true
			res.Error = fmt.Sprintf("panic: %v", r)
		}
	}()
	t := template.New("t").Funcs(funcs())
	if c.Option != "" {
		t = t.Option(c.Option)
	}
	if _, err := t.Parse(c.Template); err != nil {
		res.Failed, res.Error = true, err.Error()
		return
	}
	for _, a := range c.Also {
		if _, err := t.New(a.Name).Parse(a.Text); err != nil {
			res.Failed, res.Error = true, err.Error()
			return
		}
	}
	var data interface{}
	if len(c.Data) > 0 {
		if err := json.Unmarshal(c.Data, &data); err != nil {
			res.Failed, res.Error = true, "bad data: "+err.Error()
			return
		}
	}
	var buf bytes.Buffer
	var err error
	if c.Exec != "" {
		err = t.ExecuteTemplate(&buf, c.Exec, data)
	} else {
		err = t.Execute(&buf, data)
	}
	res.Output = buf.String()
	if err != nil {
		res.Failed, res.Error = true, err.Error()
	}
	return
}

func main() {
	var cases []testCase
	if err := json.NewDecoder(os.Stdin).Decode(&cases); err != nil {
		fmt.Fprintln(os.Stderr, "decoding cases:", err)
		os.Exit(2)
	}
	results := make([]result, 0, len(cases))
	for _, c := range cases {
		results = append(results, run(c))
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(results); err != nil {
		fmt.Fprintln(os.Stderr, "encoding results:", err)
		os.Exit(2)
	}
}
