//! `aws-ssm:` against the `moto_server` of [`super::aws_sm`] (one per test binary, IAM checks
//! on; its allowed user may `ssm:*` too), seeded with boto3 through the same helper.
//!
//! Every test works under its own unique path, since tests run in parallel on the one server.

use serde_json::{json, Value};

use crate::aws_sm::{self as sm, boto, moto, run_with, var, with, without, REGION};
use crate::contract::{expected_vars, Fixture, Seeded};
use crate::support;

fn ssm(op: &str, args: Value) -> Value {
    json!({"service": "ssm", "op": op, "args": args})
}

fn put(name: &str, value: &str) -> Value {
    put_typed(name, value, "String")
}

fn put_typed(name: &str, value: &str, kind: &str) -> Value {
    ssm(
        "put_parameter",
        json!({"Name": name, "Value": value, "Type": kind, "Overwrite": true}),
    )
}

/// A new path of its own, ending in `/`.
fn new_path(label: &str) -> String {
    format!("/{}/", support::unique(&format!("secretrun-test/{label}")))
}

pub struct SsmFixture;

impl Fixture for SsmFixture {
    fn scheme(&self) -> &'static str {
        "aws-ssm"
    }

    fn env(&self) -> Vec<(String, String)> {
        sm::fixture().env()
    }

    fn env_with_bad_credentials(&self) -> Vec<(String, String)> {
        sm::fixture().env_with_bad_credentials()
    }

    fn credential_vars(&self) -> Vec<String> {
        sm::fixture().credential_vars()
    }

    /// One parameter per key, directly under a new path; the spec reads the path.
    fn seed(&self, group: &str, pairs: &[(&str, &str)]) -> Seeded {
        let path = format!("{}{group}/", new_path("t"));
        let calls: Vec<Value> = pairs
            .iter()
            .map(|(key, value)| put(&format!("{path}{key}"), value))
            .collect();
        boto(&calls);
        Seeded {
            spec: format!("aws-ssm:{path}"),
            vars: expected_vars(pairs),
        }
    }

    /// Each group a sub-path of a new path, read with `recursive`.
    fn seed_prefix(&self, groups: &[(&str, &[(&str, &str)])]) -> Seeded {
        let path = new_path("p");
        let calls: Vec<Value> = groups
            .iter()
            .flat_map(|(group, pairs)| {
                let path = &path;
                pairs
                    .iter()
                    .map(move |(key, value)| put(&format!("{path}{group}/{key}"), value))
            })
            .collect();
        boto(&calls);
        Seeded {
            spec: format!("aws-ssm:{path}?recursive"),
            vars: expected_vars(groups.iter().flat_map(|(_, pairs)| pairs.iter())),
        }
    }

    fn missing_spec(&self) -> String {
        format!("aws-ssm:{}missing", new_path("m"))
    }
}

pub fn fixture() -> &'static SsmFixture {
    static FIXTURE: SsmFixture = SsmFixture;
    &FIXTURE
}

crate::contract_tests!(super::fixture);

fn env() -> Vec<(String, String)> {
    fixture().env()
}

#[test]
fn by_path_reads_direct_children_unless_recursive() {
    let path = new_path("tree");
    boto(&[
        put(&format!("{path}top_a"), "value-a"),
        put(&format!("{path}top_b"), "value-b"),
        put(&format!("{path}sub/nested_c"), "value-c"),
        put(&format!("{path}sub/deeper/nested_d"), "value-d"),
    ]);
    // A sibling path that merely begins the same way is not under it.
    boto(&[put(
        &format!("{}x/outside", path.trim_end_matches('/')),
        "no",
    )]);

    let spec = format!("aws-ssm:{path}");
    let run = run_with(&env(), &["--source", &spec, "--", "env"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(var(&run, "TOP_A"), Some("value-a"));
    assert_eq!(var(&run, "TOP_B"), Some("value-b"));
    assert_eq!(var(&run, "NESTED_C"), None, "not without recursive");
    assert_eq!(var(&run, "NESTED_D"), None, "not without recursive");
    assert_eq!(var(&run, "OUTSIDE"), None);

    let spec = format!("aws-ssm:{path}?recursive");
    let run = run_with(&env(), &["--source", &spec, "--", "env"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(var(&run, "TOP_A"), Some("value-a"));
    assert_eq!(var(&run, "NESTED_C"), Some("value-c"));
    assert_eq!(var(&run, "NESTED_D"), Some("value-d"));
    assert_eq!(var(&run, "OUTSIDE"), None);
}

#[test]
fn more_than_ten_parameters_are_read_page_by_page() {
    let path = new_path("many");
    // 25: GetParametersByPath answers at most 10 per page, so three pages.
    let calls: Vec<Value> = (0..25)
        .map(|i| put(&format!("{path}key_{i:02}"), &format!("value-{i:02}")))
        .collect();
    boto(&calls);
    let spec = format!("aws-ssm:{path}");
    let run = run_with(&env(), &["-vv", "--source", &spec, "--", "env"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    for i in 0..25 {
        assert_eq!(
            var(&run, &format!("KEY_{i:02}")),
            Some(format!("value-{i:02}").as_str()),
            "{}",
            run.stdout
        );
    }
    let log = sm::plain(&run.stderr);
    let pages = log
        .lines()
        .filter(|line| line.contains("GetParametersByPath page"))
        .count();
    assert!(pages >= 3, "{pages} pages: {log}");
}

#[test]
fn secure_string_is_decrypted_and_string_list_kept_as_written() {
    let path = new_path("types");
    boto(&[
        put_typed(
            &format!("{path}db_password"),
            "secure-hunter2",
            "SecureString",
        ),
        put_typed(&format!("{path}hosts"), "a.example,b.example", "StringList"),
    ]);
    for spec in [
        format!("aws-ssm:{path}"),
        format!("aws-ssm:{path}db_password"),
    ] {
        let run = run_with(
            &env(),
            &["--source", &spec, "--", "printenv", "DB_PASSWORD"],
        );
        assert_eq!(run.code, Some(0), "{spec}: {run:?}");
        assert_eq!(run.stdout, "secure-hunter2\n", "{spec}");
    }
    let spec = format!("aws-ssm:{path}hosts");
    let run = run_with(&env(), &["--source", &spec, "--", "printenv", "HOSTS"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(run.stdout, "a.example,b.example\n");
}

#[test]
fn one_parameter_is_named_by_its_last_segment_or_by_the_var() {
    let path = new_path("single");
    boto(&[
        put(&format!("{path}db-password"), "single-value"),
        put(&format!("{path}other"), "not-read"),
    ]);
    let spec = format!("aws-ssm:{path}db-password?prefix=APP_");
    let run = run_with(&env(), &["--source", &spec, "--", "env"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(var(&run, "APP_DB_PASSWORD"), Some("single-value"));
    assert_eq!(var(&run, "APP_OTHER"), None, "only the one parameter");

    let spec = format!("aws-ssm:{path}db-password#pg-pass");
    let run = run_with(&env(), &["--source", &spec, "--", "env"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(var(&run, "PG_PASS"), Some("single-value"));
    assert_eq!(var(&run, "DB_PASSWORD"), None);
}

#[test]
fn keep_path_names_by_the_path_below_the_one_requested() {
    let path = new_path("keep");
    boto(&[
        put(&format!("{path}api/password"), "api-pass"),
        put(&format!("{path}db/password"), "db-pass"),
        put(&format!("{path}db.host"), "db-host"),
    ]);
    let spec = format!("aws-ssm:{path}?recursive&keep-path&prefix=X_");
    let run = run_with(&env(), &["--source", &spec, "--", "env"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(var(&run, "X_API_PASSWORD"), Some("api-pass"));
    assert_eq!(var(&run, "X_DB_PASSWORD"), Some("db-pass"));
    assert_eq!(var(&run, "X_DB_HOST"), Some("db-host"));

    // Without keep-path both are PASSWORD: the name sorting last (…/db/password) wins.
    let spec = format!("aws-ssm:{path}?recursive");
    let run = run_with(&env(), &["--source", &spec, "--", "printenv", "PASSWORD"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(run.stdout, "db-pass\n");
}

#[test]
fn version_and_label_read_an_older_value() {
    let name = format!("{}token", new_path("versions"));
    boto(&[put(&name, "old-token"), put(&name, "new-token")]);
    boto(&[ssm(
        "label_parameter_version",
        json!({"Name": name, "ParameterVersion": 1, "Labels": ["stable"]}),
    )]);
    for (spec, expected) in [
        (format!("aws-ssm:{name}"), "new-token\n"),
        (format!("aws-ssm:{name}?version=2"), "new-token\n"),
        (format!("aws-ssm:{name}?version=1"), "old-token\n"),
        (format!("aws-ssm:{name}?label=stable"), "old-token\n"),
    ] {
        let run = run_with(&env(), &["--source", &spec, "--", "printenv", "TOKEN"]);
        assert_eq!(run.code, Some(0), "{spec}: {run:?}");
        assert_eq!(run.stdout, expected, "{spec}");
    }
    for (spec, what) in [
        (
            format!("aws-ssm:{name}?version=9"),
            format!("not found: parameter '{name}' at version 9"),
        ),
        (
            format!("aws-ssm:{name}?label=nope"),
            format!("not found: parameter '{name}' with label 'nope'"),
        ),
    ] {
        let run = run_with(&env(), &["--source", &spec, "--", "true"]);
        assert_eq!(run.code, Some(125), "{run:?}");
        assert!(run.stderr.contains(&what), "{what}: {run:?}");
    }
}

#[test]
fn a_missing_parameter_is_not_found_naming_it() {
    let name = format!("{}nothing-here", new_path("missing"));
    let spec = format!("aws-ssm:{name}");
    let run = run_with(&env(), &["--source", &spec, "--", "true"]);
    assert_eq!(run.code, Some(125), "{run:?}");
    assert!(
        run.stderr
            .contains(&format!("{spec}: not found: parameter '{name}'")),
        "{run:?}"
    );
}

#[test]
fn an_empty_path_is_not_found_and_the_child_never_starts() {
    let dir = support::temp_dir();
    let marker = dir.path().join("started");
    let path = new_path("empty");
    // Something only below it: without `recursive` the path itself is still empty.
    boto(&[put(&format!("{path}sub/deep"), "v")]);
    let spec = format!("aws-ssm:{path}");
    let script = format!("touch {}", marker.display());
    let run = sm::run_in(
        dir.path(),
        &env(),
        &["--source", &spec, "--command", &script],
    );
    assert_eq!(run.code, Some(125), "{run:?}");
    assert!(
        run.stderr.contains(&format!(
            "{spec}: not found: no parameter under '{path}' (parameters in its sub-paths need \
             ?recursive)"
        )),
        "{run:?}"
    );
    assert!(!marker.exists(), "the child must not start");

    let spec = format!("aws-ssm:{}?recursive", new_path("empty"));
    let run = run_with(&env(), &["--source", &spec, "--", "true"]);
    assert_eq!(run.code, Some(125), "{run:?}");
    assert!(
        run.stderr.contains("not found: no parameter under"),
        "{run:?}"
    );
}

#[test]
fn ssm_endpoint_variable_alone_works() {
    let seeded = fixture().seed("endpoint", &[("via_ssm_url", "ssm-url-value")]);
    let env = without(env(), &["AWS_ENDPOINT_URL"]);
    let env = with(env, "AWS_ENDPOINT_URL_SSM", &moto().endpoint());
    let run = run_with(
        &env,
        &["--source", &seeded.spec, "--", "printenv", "VIA_SSM_URL"],
    );
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(run.stdout, "ssm-url-value\n");
}

#[test]
fn plain_http_to_a_remote_ssm_endpoint_is_refused() {
    let env = with(env(), "AWS_ENDPOINT_URL_SSM", "http://192.0.2.1:4566");
    let run = run_with(&env, &["--source", "aws-ssm:/app/db", "--", "true"]);
    assert_eq!(run.code, Some(125), "{run:?}");
    assert!(
        run.stderr
            .contains("AWS_ENDPOINT_URL_SSM uses plain http to a non-loopback host"),
        "{run:?}"
    );
}

#[test]
fn both_aws_services_share_one_sdk_configuration() {
    let parameter = fixture().seed("shared", &[("from_ssm", "ssm-side")]);
    let secret = sm::fixture().seed("shared", &[("from_sm", "sm-side")]);
    let run = run_with(
        &env(),
        &[
            "-vv",
            "--source",
            &parameter.spec,
            "--source",
            &secret.spec,
            "--",
            "printenv",
            "FROM_SSM",
            "FROM_SM",
        ],
    );
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(run.stdout, "ssm-side\nsm-side\n");
    let log = sm::plain(&run.stderr);
    let loads = log
        .lines()
        .filter(|line| line.contains("AWS SDK configured"))
        .count();
    assert_eq!(loads, 1, "{log}");
}

#[test]
fn a_user_without_permission_gets_the_permission_hint() {
    let seeded = fixture().seed("denied", &[("key", "ssm-denied-canary")]);
    let (key, secret) = &moto().denied;
    let run = run_with(
        &sm::env_with(key, secret),
        &["--source", &seeded.spec, "--", "true"],
    );
    assert_eq!(run.code, Some(125), "{run:?}");
    assert!(run.stderr.contains("permission denied"), "{run:?}");
    assert!(!run.stderr.contains(secret.as_str()), "{run:?}");
    assert!(!run.stderr.contains("ssm-denied-canary"), "{run:?}");
}

#[test]
fn a_wrong_secret_key_is_rejected() {
    let seeded = fixture().seed("signature", &[("key", "v")]);
    let key = &moto().reader.0;
    let wrong = "wrong-ssm-secret-key-canary-1234";
    let run = run_with(
        &sm::env_with(key, wrong),
        &["--source", &seeded.spec, "--", "true"],
    );
    assert_eq!(run.code, Some(125), "{run:?}");
    assert!(run.stderr.contains("HTTP 403"), "{run:?}");
    assert!(!run.stderr.contains(wrong), "{run:?}");
}

#[test]
fn no_region_is_a_clear_config_error() {
    let env = without(env(), &["AWS_REGION", "AWS_DEFAULT_REGION"]);
    let run = run_with(&env, &["--source", "aws-ssm:/app/db", "--", "true"]);
    assert_eq!(run.code, Some(125), "{run:?}");
    assert!(
        run.stderr.contains(
            "aws-ssm:/app/db: no AWS region: set AWS_REGION (or AWS_DEFAULT_REGION), or set \
             `region` in the AWS profile"
        ),
        "{run:?}"
    );
    let seeded = fixture().seed("default-region", &[("k", "default-region-ok")]);
    let env = with(env, "AWS_DEFAULT_REGION", REGION);
    let run = run_with(&env, &["--source", &seeded.spec, "--", "printenv", "K"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(run.stdout, "default-region-ok\n");
}
