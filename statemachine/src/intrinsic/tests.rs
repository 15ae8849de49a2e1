use serde_json::{Map, Value, json};

use super::*;
use crate::path::Scope;

fn run(call: &str, input: &Value) -> Result<Value, IntrinsicError> {
    Call::parse(call)
        .unwrap_or_else(|e| panic!("{call}: {e}"))
        .evaluate(&Scope::new(input))
}

fn ok(call: &str, input: &Value) -> Value {
    run(call, input).unwrap_or_else(|e| panic!("{call}: {e}"))
}

fn failure(call: &str, input: &Value) -> bool {
    matches!(run(call, input), Err(IntrinsicError::Failure(_)))
}

#[test]
fn parses_nested_calls_paths_and_literals() {
    let call = Call::parse("States.Array(1, -2.5, 'a', true, false, null, $.x[0], States.UUID())")
        .unwrap();
    assert_eq!(call.function, Function::Array);
    assert_eq!(call.args.len(), 8);
    assert_eq!(call.args[1], Arg::Literal(json!(-2.5)));
    assert!(matches!(&call.args[6], Arg::Path(p) if p.as_str() == "$.x[0]"));
    assert!(matches!(&call.args[7], Arg::Call(c) if c.function == Function::Uuid));
}

#[test]
fn paths_with_brackets_and_commas_inside_quotes() {
    let input = json!({"a,b": [1, 2], "c": {"d)": 3}});
    assert_eq!(
        ok("States.Array($['a,b'][1], $.c['d)'])", &input),
        json!([2, 3])
    );
}

#[test]
fn syntax_and_arity_errors() {
    assert!(matches!(
        Call::parse("States.Nope(1)"),
        Err(IntrinsicError::UnknownFunction { .. })
    ));
    assert!(matches!(
        Call::parse("States.Format('x'"),
        Err(IntrinsicError::Syntax { .. })
    ));
    assert!(matches!(
        Call::parse("States.Array(1) x"),
        Err(IntrinsicError::Syntax { .. })
    ));
    assert!(matches!(
        Call::parse("States.Array('open)"),
        Err(IntrinsicError::Syntax { .. })
    ));
    assert!(matches!(
        Call::parse("States.UUID(1)"),
        Err(IntrinsicError::Arity { .. })
    ));
    assert!(matches!(
        Call::parse("States.MathAdd(1)"),
        Err(IntrinsicError::Arity { .. })
    ));
    assert!(matches!(
        Call::parse("States.Format()"),
        Err(IntrinsicError::Arity { .. })
    ));
    assert!(matches!(
        Call::parse("States.Array($.)"),
        Err(IntrinsicError::BadPath(_))
    ));
    assert!(Call::looks_like_call("States.Format('x')"));
    assert!(!Call::looks_like_call("$.x"));
}

#[test]
fn string_escapes_as_aws_defines_them() {
    let input = json!({});
    assert_eq!(
        ok(r"States.Format('it\'s \{\} {} \\', 'x')", &input),
        json!(r"it's {} x \")
    );
    // AWS refuses any other escape, `\"` included (its recorded CreateStateMachine verdicts).
    assert!(Call::parse(r#"States.StringToJson('{"t":"a \"q\""}')"#).is_err());
    assert!(Call::parse(r"States.Format('a\tb')").is_err());
    assert_eq!(
        ok("States.StringSplit('Hello\nWorld', '\n')", &input),
        json!(["Hello", "World"])
    );
}

#[test]
fn format_renders_like_java() {
    let input = json!({"o": {"Arg1": 1, "Arg2": []}, "n": null, "f": 1.1, "l": [1, "a"]});
    assert_eq!(
        ok("States.Format('{} {} {} {}', $.o, $.n, $.f, $.l)", &input),
        json!("{Arg1=1, Arg2=[]} null 1.1 [1, a]")
    );
    assert!(failure("States.Format('{} {}', 1)", &input));
    assert_eq!(
        ok("States.Format($.t, 2)", &json!({"t": "n={}"})),
        json!("n=2")
    );
}

#[test]
fn json_string_conversions() {
    let input = json!({"v": {"Arg1": 1, "Arg2": []}});
    assert_eq!(
        ok("States.JsonToString($.v)", &input),
        json!("{\"Arg1\":1,\"Arg2\":[]}")
    );
    assert_eq!(ok("States.StringToJson(' ')", &input), Value::Null);
    assert_eq!(ok("States.StringToJson('-0')", &input), json!(0));
    assert!(failure("States.StringToJson('{nope')", &input));
}

#[test]
fn array_functions() {
    let input = json!({"a": [0, 1, 2, 3], "d": [1, 1, [2], [2], {"x": 1}, {"x": 1}]});
    assert_eq!(
        ok("States.ArrayPartition($.a, 3)", &input),
        json!([[0, 1, 2], [3]])
    );
    assert!(failure("States.ArrayPartition($.a, 0)", &input));
    assert_eq!(
        ok("States.ArrayContains($.d, States.Array(2))", &input),
        json!(true)
    );
    assert_eq!(ok("States.ArrayContains($.a, 9)", &input), json!(false));
    assert_eq!(
        ok("States.ArrayRange(0, 10, 3)", &input),
        json!([0, 3, 6, 9])
    );
    assert_eq!(ok("States.ArrayRange(5, 1, -2)", &input), json!([5, 3, 1]));
    assert_eq!(ok("States.ArrayRange(5, 1, 2)", &input), json!([]));
    assert!(failure("States.ArrayRange(0, 1000, 1)", &input));
    assert!(failure("States.ArrayRange(0, 10, 0)", &input));
    assert_eq!(ok("States.ArrayGetItem($.a, 2)", &input), json!(2));
    assert!(failure("States.ArrayGetItem($.a, 4)", &input));
    assert_eq!(ok("States.ArrayLength($.a)", &input), json!(4));
    assert_eq!(
        ok("States.ArrayUnique($.d)", &input),
        json!([1, [2], {"x": 1}])
    );
    assert!(failure("States.ArrayLength('x')", &input));
}

#[test]
fn base64_and_hash() {
    let input = json!({});
    assert_eq!(
        ok("States.Base64Encode('Data to encode')", &input),
        json!("RGF0YSB0byBlbmNvZGU=")
    );
    assert_eq!(
        ok("States.Base64Decode('RGF0YSB0byBlbmNvZGU=')", &input),
        json!("Data to encode")
    );
    assert!(failure("States.Base64Decode('%%%')", &input));
    assert_eq!(
        ok("States.Hash('input data', 'MD5')", &input),
        json!("812f45842bc6d66ee14572ce20db8e86")
    );
    assert_eq!(
        ok("States.Hash('input data', 'SHA-256')", &input),
        json!("b4a697a057313163aee33cd8d40c66e9f0f177e00cac2de32475ffff6169c3e3")
    );
    assert!(failure("States.Hash('x', 'SHA-3')", &input));
}

#[test]
fn json_merge_is_shallow() {
    let input = json!({"a": {"x": {"p": 1}, "y": 1}, "b": {"x": {"q": 2}}});
    assert_eq!(
        ok("States.JsonMerge($.a, $.b, false)", &input),
        json!({"x": {"q": 2}, "y": 1})
    );
    assert!(failure("States.JsonMerge($.a, $.b, true)", &input));
}

#[test]
fn math_functions() {
    let input = json!({});
    assert_eq!(ok("States.MathAdd(1.49, 1.5)", &input), json!(3));
    assert_eq!(ok("States.MathAdd(-1.5, 0)", &input), json!(-1));
    assert_eq!(ok("States.MathAdd(-9, 3)", &input), json!(-6));
    for _ in 0..50 {
        let n = ok("States.MathRandom(1, 4)", &input).as_i64().unwrap();
        assert!((1..4).contains(&n));
    }
    assert_eq!(
        ok("States.MathRandom(0, 1000, 7)", &input),
        ok("States.MathRandom(0, 1000, 7)", &input)
    );
    assert!(failure("States.MathRandom(5, 5)", &input));
}

#[test]
fn string_split_uses_each_delimiter_character_and_drops_empties() {
    let input = json!({});
    assert_eq!(
        ok("States.StringSplit('This.is+a,test', '.+,')", &input),
        json!(["This", "is", "a", "test"])
    );
    assert_eq!(
        ok("States.StringSplit(', , ,', ',')", &input),
        json!([" ", " "])
    );
}

#[test]
fn uuid_is_v4() {
    let id = ok("States.UUID()", &json!({}));
    let id = id.as_str().unwrap();
    assert_eq!(id.len(), 36);
    assert_eq!(&id[14..15], "4");
}

#[test]
fn path_arguments_not_found_and_variables() {
    let input = json!({});
    assert!(matches!(
        run("States.Array($.missing)", &input),
        Err(IntrinsicError::PathNotFound { .. })
    ));
    let mut vars = Map::new();
    vars.insert("v".into(), json!(41));
    let call = Call::parse("States.MathAdd($v, 1)").unwrap();
    assert_eq!(
        call.evaluate(&Scope::new(&input).with_variables(&vars))
            .unwrap(),
        json!(42)
    );
}
