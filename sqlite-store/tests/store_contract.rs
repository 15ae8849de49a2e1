//! The store contract (lambdas/core/tests/store_support/cases.rs), run against the SQLite store as
//! it runs against the in-memory and DynamoDB stores. The cases and their helpers are the core's
//! own files, not copies; [`the_case_list_is_the_core_suites`] fails when a case is added there and
//! not here.

#![allow(clippy::unwrap_used, clippy::expect_used)] // A test, bench or example: a failed expectation is its failure.

#[allow(dead_code)]
#[path = "../../lambdas/core/tests/store_support/mod.rs"]
mod store_support;

use std::sync::Arc;

use loadshed_core::ports::Store;
use loadshed_sqlite::{DATABASE_FILE, SqliteStore};

/// A store on a database file of its own (the folder is kept as long as the store).
async fn sqlite() -> (Arc<dyn Store>, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SqliteStore::open(dir.path().join(DATABASE_FILE))
        .await
        .expect("open the store");
    (Arc::new(store), dir)
}

macro_rules! contract {
    ($($case:ident),+ $(,)?) => {
        const CASES: &[&str] = &[$(stringify!($case)),+];

        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let (store, _dir) = crate::sqlite().await;
                    crate::store_support::cases::$case(store).await;
                }
            )+
        }
    };
}

contract!(
    stage_first_write,
    stage_timelines_and_what_they_replaced_round_trip,
    chat_settings_default_and_last_write_wins,
    stage_retried_write_is_not_written_twice,
    stage_stale_version_conflicts,
    stage_concurrent_writers_one_wins,
    schedule_written_only_when_changed,
    subscribe_and_unsubscribe_are_idempotent,
    subscriptions_list_by_chat_and_by_area,
    subscribers_read_page_by_page,
    subscribed_areas_follow_subscriptions,
    remove_chat_drops_all_its_subscriptions,
    move_chat_moves_subscriptions,
    ledger_first_write_wins,
    ledger_concurrent_records_one_wins,
    leases_expire_and_can_be_reclaimed,
    ledger_claims_confirm_and_release,
    ledger_concurrent_claims_one_wins,
    ledger_confirms_many_at_once,
    stage_refresh_marker_moves_forward,
    leases_held_for_a_holder,
    takes_are_counted_to_their_limit,
    areas_over_the_limits_are_refused,
    channel_links_by_area_and_idempotent,
    remove_chat_drops_its_channel_links,
);

/// The cases the core's suite runs against memory and DynamoDB, read from its `contract!` list.
#[test]
fn the_case_list_is_the_core_suites() {
    let suite = include_str!("../../lambdas/core/tests/store_contract.rs");
    let list = suite
        .split("\ncontract!(")
        .nth(1)
        .and_then(|rest| rest.split(");").next())
        .expect("lambdas/core/tests/store_contract.rs has a contract!( ... ); list");
    let core: Vec<&str> = list
        .split(',')
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .collect();
    assert_eq!(
        core, CASES,
        "run every case of the core's contract suite here too"
    );
}
