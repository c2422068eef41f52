//! Helm's `--set` family, with the cases Helm documents and tests (values written in YAML
//! flow style for readability; compared as values).
#![allow(clippy::expect_used, clippy::unwrap_used)]

use weir_helm::strvals::{parse_set, parse_set_file_into, parse_set_into, parse_set_json_into, parse_set_string};
use weir_helm::template::{Map, Value};

fn yaml(text: &str) -> Value {
    // Values written here use YAML ints for --set ints; compare through JSON-ish Values.
    let v: Value = serde_saphyr::from_str(text).unwrap();
    v
}

fn map(m: Map) -> Value {
    Value::map(m)
}

#[track_caller]
fn set_ok(expr: &str, want: &str) {
    let got = parse_set(expr).unwrap_or_else(|e| panic!("{expr}: {e}"));
    assert_eq!(same(&map(got.clone())), same(&yaml(want)), "{expr}: got {}", map(got));
}

#[track_caller]
fn set_err(expr: &str, want: &str) {
    let e = parse_set(expr).expect_err(expr);
    assert_eq!(e.to_string(), want, "{expr}");
}

/// Compares ints and floats by value (YAML numbers decode as floats here).
fn same(v: &Value) -> String {
    match v {
        Value::Int(n) => format!("num:{n}"),
        Value::Float(f) if f.fract() == 0.0 => format!("num:{}", *f as i64),
        Value::List(l) => format!("[{}]", l.iter().map(same).collect::<Vec<_>>().join(",")),
        Value::Map(m) => {
            format!("{{{}}}", m.read().iter().map(|(k, v)| format!("{k}:{}", same(v))).collect::<Vec<_>>().join(","))
        }
        Value::String(s) => format!("str:{s}"),
        v => format!("{v:?}"),
    }
}

#[test]
fn scalars_and_type_inference() {
    set_ok("name1=value1", "{name1: value1}");
    set_ok("name1=value1,name2=value2", "{name1: value1, name2: value2}");
    set_ok("name1=value1,name2=value2,", "{name1: value1, name2: value2}");
    set_ok("name1=,name2=value2", "{name1: '', name2: value2}");
    set_ok("name1=", "{name1: ''}");
    set_ok("name1=one two three", "{name1: one two three}");
    set_ok("long_int_string=1234567890", "{long_int_string: 1234567890}");
    set_ok("boolean=true,upper=TRUE,f=False", "{boolean: true, upper: true, f: false}");
    set_ok("is_null=null,Null=NULL", "{is_null: null, 'Null': null}");
    set_ok(
        "zero=0,lead=0123,neg=-5,plus=+7,float=1.5,exp=1e3",
        "{zero: 0, lead: '0123', neg: -5, plus: 7, float: '1.5', exp: '1e3'}",
    );
    set_ok("huge=99999999999999999999", "{huge: '99999999999999999999'}");
    let v = parse_set("i=5,f=1.5").unwrap();
    assert_eq!(v["i"], Value::Int(5));
    assert_eq!(v["f"], Value::from("1.5"));
}

#[test]
fn escapes() {
    set_ok(r"name1=one\,two,name2=three\,four", "{name1: 'one,two', name2: 'three,four'}");
    set_ok(r"name1=one\=two", "{name1: one=two}");
    set_ok(r"dots\.in\.key=1", "{dots.in.key: 1}");
    set_ok(r"annotations.kubernetes\.io/ingress\.class=nginx", "{annotations: {kubernetes.io/ingress.class: nginx}}");
    set_ok(r"back=a\\b", r"{back: 'a\b'}");
}

#[test]
fn nested_names() {
    set_ok("outer.inner=value", "{outer: {inner: value}}");
    set_ok("outer.middle.inner=value", "{outer: {middle: {inner: value}}}");
    set_ok("outer.inner1=value,outer.inner2=value2", "{outer: {inner1: value, inner2: value2}}");
    set_ok("outer.inner1=value,outer.middle.inner=value", "{outer: {inner1: value, middle: {inner: value}}}");
    set_ok("name1.name2=", "{name1: {name2: ''}}");
    set_err("name1.=name2", r#"key map "name1" has no value"#);
    set_err("name1.,name2", r#"key "" has no value (cannot end with ,)"#);
    set_err("name1,name2=", r#"key "name1" has no value (cannot end with ,)"#);
    set_err("name1=value1,,,,name2=value2,", r#"key "" has no value (cannot end with ,)"#);
    set_err("name1", r#"key "name1" has no value"#);
    let deep = (0..32).map(|i| format!("k{i}")).collect::<Vec<_>>().join(".") + "=x";
    set_err(&deep, "value name nested level is greater than maximum supported nested level of 30");
    set_err("a=1,a.b=2", "unable to parse key: interface conversion: interface {} is int, not map[string]interface {}");
}

#[test]
fn lists() {
    set_ok("name1={value1,value2}", "{name1: [value1, value2]}");
    set_ok("name1={value1,value2},name2={value1,value2}", "{name1: [value1, value2], name2: [value1, value2]}");
    set_ok("name1={1021,902}", "{name1: [1021, 902]}");
    set_ok("name1.name2={value1,value2}", "{name1: {name2: [value1, value2]}}");
    set_ok("empty={}", "{empty: ['']}");
    set_err("name1={value1", "list must terminate with '}'");
    set_ok("list[0]=foo", "{list: [foo]}");
    set_ok("list[0].foo=bar", "{list: [{foo: bar}]}");
    set_ok("list[0].foo=bar,list[0].hello=world", "{list: [{foo: bar, hello: world}]}");
    set_ok("list[0]=foo,list[1]=bar", "{list: [foo, bar]}");
    set_ok("list[0]=foo,list[1]=bar,", "{list: [foo, bar]}");
    set_ok("list[0]=foo,list[3]=bar", "{list: [foo, null, null, bar]}");
    set_ok("noval[0]=", "{noval: ['']}");
    set_ok("nested[0][0]=1", "{nested: [[1]]}");
    set_ok("nested[1][1]=1", "{nested: [null, [null, 1]]}");
    set_ok("list[0]={a,b}", "{list: [[a, b]]}");
    set_ok("name1.name2[0].foo=bar,name1.name2[1].foo=bar", "{name1: {name2: [{foo: bar}, {foo: bar}]}}");
    set_ok("name1.name2[1].foo=bar,name1.name2[0].foo=bar", "{name1: {name2: [{foo: bar}, {foo: bar}]}}");
    set_ok("name1.name2[1].foo=bar", "{name1: {name2: [null, {foo: bar}]}}");
    set_err("illegal[0]name.foo=bar", r#"unexpected data at end of array index: "name""#);
    set_err("noval[0]", "EOF");
    set_err("bad[x]=1", r#"error parsing index: strconv.Atoi: parsing "x": invalid syntax"#);
    set_err("neg[-1]=1", "negative -1 index not allowed");
    set_err("big[65537]=1", "index of 65537 is greater than maximum supported index of 65536");
    set_ok("big[65536]=1", &format!("{{big: [{}1]}}", "null, ".repeat(65536)));
}

#[test]
fn later_flags_override_earlier_ones() {
    let mut m = parse_set("a.b=1,a.c=2,l[1]=x").unwrap();
    parse_set_into("a.b=3,l[0]=y", &mut m).unwrap();
    assert_eq!(same(&map(m)), same(&yaml("{a: {b: 3, c: 2}, l: ['y', x]}")));
}

#[test]
fn set_string_keeps_strings() {
    let m = parse_set_string("a=1,b=true,c=null,d={1,2},e[0]=0").unwrap();
    assert_eq!(same(&map(m)), same(&yaml("{a: '1', b: 'true', c: 'null', d: ['1', '2'], e: ['0']}")));
}

#[test]
fn set_json_values() {
    let mut m = Map::new();
    parse_set_json_into(
        r#"outer.inner1={"a":"1","b":2,"c":[1,2,3]},outer.inner3=["new value 1","new value 2"],outer.inner5=[{"A":"1","B":2}],s="x, y",n=null,e="#,
        &mut m,
    )
    .unwrap();
    let want = yaml(
        "{outer: {inner1: {a: '1', b: 2, c: [1, 2, 3]}, inner3: [new value 1, new value 2], inner5: [{A: '1', B: 2}]}, \
         s: 'x, y', 'n': null, e: null}",
    );
    assert_eq!(same(&map(m)), same(&want));
    let mut m = Map::new();
    parse_set_json_into(r#"list[1]={"x": 1} ,other=true"#, &mut m).unwrap();
    assert_eq!(same(&map(m)), same(&yaml("{list: [null, {x: 1}], other: true}")));
    assert!(parse_set_json_into("a=nope", &mut Map::new()).is_err());
}

#[test]
fn set_file_reads_through_the_callback() {
    let mut m = Map::new();
    parse_set_file_into("cfg=conf/app.ini,list[0]=a.txt", &mut m, |p| Ok(format!("<content of {p}>"))).unwrap();
    assert_eq!(same(&map(m)), same(&yaml("{cfg: '<content of conf/app.ini>', list: ['<content of a.txt>']}")));
    let e =
        parse_set_file_into("cfg=missing", &mut Map::new(), |p| Err(format!("open {p}: no such file"))).unwrap_err();
    assert_eq!(e.to_string(), "open missing: no such file");
}

#[test]
fn never_panics_on_odd_input() {
    for s in [
        "", ",", "=", "[", "]", "a[", "a[0", "a[0]", "a[0][", "{", "a={", "a.b.c", r"\", r"a=\", "a[]=1", "a..b=1",
        "[0]=1",
    ] {
        let _ = parse_set(s);
        let _ = parse_set_json_into(s, &mut Map::new());
    }
}
