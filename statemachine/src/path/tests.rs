use serde_json::{Map, Value, json};

use super::*;

fn eval(path: &str, input: &Value) -> Result<Value, PathError> {
    Path::parse(path)
        .expect("path parses")
        .evaluate(&Scope::new(input))
}

#[test]
fn root_and_dotted_fields() {
    let input = json!({"a": {"b": [10, 20, {"c": true}]}});
    assert_eq!(eval("$", &input).unwrap(), input);
    assert_eq!(eval("$.a.b[1]", &input).unwrap(), json!(20));
    assert_eq!(eval("$.a.b[2].c", &input).unwrap(), json!(true));
    assert_eq!(eval("$['a']['b'][0]", &input).unwrap(), json!(10));
    assert_eq!(eval("$.a.b[-1]", &input).unwrap(), json!({"c": true}));
}

#[test]
fn missing_leaf_and_missing_intermediate_use_jayway_messages() {
    let input = json!({"a": 1});
    let leaf = eval("$.NoSuchInputPath", &input).unwrap_err();
    assert_eq!(
        leaf.to_string(),
        "No results for path: $['NoSuchInputPath']"
    );
    let middle = eval("$.no.such.path", &input).unwrap_err();
    assert_eq!(middle.to_string(), "Missing property in path $['no']");
    assert!(middle.is_not_found());
}

#[test]
fn index_out_of_range_is_not_found() {
    assert!(
        eval("$.a[3]", &json!({"a": [1]}))
            .unwrap_err()
            .is_not_found()
    );
}

#[test]
fn wildcards_and_slices_yield_arrays_even_when_empty() {
    let input = json!({"items": [1, 2, 3, 4]});
    assert_eq!(eval("$.items[*]", &input).unwrap(), json!([1, 2, 3, 4]));
    assert_eq!(eval("$.items[1:]", &input).unwrap(), json!([2, 3, 4]));
    assert_eq!(eval("$.items[:2]", &input).unwrap(), json!([1, 2]));
    assert_eq!(eval("$.items[-2:]", &input).unwrap(), json!([3, 4]));
    assert_eq!(eval("$.items[::2]", &input).unwrap(), json!([1, 3]));
    assert_eq!(eval("$.items[0,2]", &input).unwrap(), json!([1, 3]));
    assert_eq!(eval("$.missing[1:]", &json!({})).unwrap(), json!([]));
    assert_eq!(eval("$[*]", &json!({})).unwrap(), json!([]));
}

#[test]
fn recursive_descent_finds_nested_fields() {
    let input = json!({"a": {"x": 1, "b": {"x": 2}}, "c": [{"x": 3}]});
    let mut found: Vec<i64> = eval("$..x", &input)
        .unwrap()
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_i64().unwrap())
        .collect();
    found.sort_unstable();
    assert_eq!(found, vec![1, 2, 3]);
}

#[test]
fn filters_compare_like_jayway() {
    let input = json!({"books": [
        {"title": "a", "price": 5, "tag": "x"},
        {"title": "b", "price": 15},
        {"title": "c", "price": 8, "tag": "y"}
    ]});
    assert_eq!(
        eval("$.books[?(@.price < 10)].title", &input).unwrap(),
        json!(["a", "c"])
    );
    assert_eq!(
        eval("$.books[?(@.tag)].title", &input).unwrap(),
        json!(["a", "c"])
    );
    assert_eq!(
        eval("$.books[?(@.tag == 'y')].title", &input).unwrap(),
        json!(["c"])
    );
    assert_eq!(
        eval("$.books[?(@.price > 6 && @.tag)].title", &input).unwrap(),
        json!(["c"])
    );
    assert_eq!(
        eval("$.books[?(@.price >= 15 || @.tag == \"x\")].title", &input).unwrap(),
        json!(["a", "b"])
    );
    assert_eq!(
        eval("$.books[?(!(@.tag))].title", &input).unwrap(),
        json!(["b"])
    );
    assert_eq!(
        eval("$.books[?(@.tag != 'x')].title", &input).unwrap(),
        json!(["b", "c"])
    );
    // A string never equals a number.
    assert_eq!(
        eval("$.books[?(@.price == '5')].title", &input).unwrap(),
        json!([])
    );
}

#[test]
fn quoted_names_keep_backslashes_except_before_the_quote() {
    let input = json!({"Test\\\"\"Name\"": "v", "it's": 1, "a.b": 2});
    assert_eq!(eval("$['Test\\\"\"Name\"']", &input).unwrap(), json!("v"));
    assert_eq!(eval("$['it\\'s']", &input).unwrap(), json!(1));
    assert_eq!(eval("$[\"a.b\"]", &input).unwrap(), json!(2));
}

#[test]
fn context_and_variable_roots() {
    let input = json!({});
    let context = json!({"Execution": {"Id": "arn:x"}});
    let mut vars = Map::new();
    vars.insert("myVar".into(), json!({"field": [1, 2]}));
    let scope = Scope::new(&input)
        .with_context(&context)
        .with_variables(&vars);
    let p = Path::parse("$$.Execution.Id").unwrap();
    assert_eq!(p.root(), &Root::Context);
    assert_eq!(p.evaluate(&scope).unwrap(), json!("arn:x"));
    let v = Path::parse("$myVar.field[1]").unwrap();
    assert_eq!(v.root(), &Root::Variable("myVar".into()));
    assert_eq!(v.evaluate(&scope).unwrap(), json!(2));
    let undefined = Path::parse("$other").unwrap().evaluate(&scope).unwrap_err();
    assert_eq!(
        undefined,
        PathError::UndefinedVariable {
            name: "other".into()
        }
    );
}

#[test]
fn syntax_errors_are_reported() {
    for bad in [
        "",
        "a.b",
        "$.",
        "$[",
        "$.a[?(@.x ==)]",
        "$[1:2:0]",
        "$.a[abc]",
        "$['open",
        "$9var",
    ] {
        assert!(
            matches!(Path::parse(bad), Err(PathError::Syntax { .. })),
            "'{bad}' should be a syntax error, got {:?}",
            Path::parse(bad)
        );
    }
}

#[test]
fn reference_paths_reject_indefinite_steps() {
    for ok in ["$", "$.a.b", "$['a'][0]", "$$.Map.Item.Value", "$var.x"] {
        assert!(ReferencePath::parse(ok).is_ok(), "{ok}");
    }
    for bad in ["$.a[*]", "$..a", "$.a[1:]", "$.a[?(@.b)]", "$['a','b']"] {
        assert!(
            matches!(
                ReferencePath::parse(bad),
                Err(PathError::NotReference { .. })
            ),
            "{bad}"
        );
    }
}

#[test]
fn definiteness() {
    assert!(Path::parse("$.a[0].b").unwrap().is_definite());
    assert!(!Path::parse("$.a[*]").unwrap().is_definite());
}

#[test]
fn result_path_insertion() {
    let target = json!({"a": 1});
    let rp = |p: &str| ReferencePath::parse(p).unwrap();
    assert_eq!(rp("$").insert(target.clone(), json!(5)).unwrap(), json!(5));
    assert_eq!(
        rp("$.r").insert(target.clone(), json!(5)).unwrap(),
        json!({"a": 1, "r": 5})
    );
    assert_eq!(
        rp("$.x.y.z").insert(target.clone(), json!(5)).unwrap(),
        json!({"a": 1, "x": {"y": {"z": 5}}})
    );
    assert_eq!(
        rp("$.a").insert(target.clone(), json!(5)).unwrap(),
        json!({"a": 5})
    );
    assert_eq!(
        rp("$.l[1]").insert(json!({"l": [0, 0]}), json!(9)).unwrap(),
        json!({"l": [0, 9]})
    );
    assert!(matches!(
        rp("$.a.b").insert(target.clone(), json!(5)),
        Err(PathError::CannotInsert { .. })
    ));
    assert!(matches!(
        rp("$.l[5]").insert(json!({"l": []}), json!(5)),
        Err(PathError::CannotInsert { .. })
    ));
    assert!(matches!(
        rp("$$.x").insert(target, json!(5)),
        Err(PathError::CannotInsert { .. })
    ));
}
