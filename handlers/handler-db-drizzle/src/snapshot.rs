//! drizzle-kit's schema snapshots (`meta/<prefix>_snapshot.json`): a
//! migration written without a schema change carries the previous one
//! forward under a new id, as `drizzle-kit generate --custom` does, so the
//! next `drizzle-kit generate` diffs against the right schema.

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::journal::Entry;
use crate::json_text::top_level_value;
use faber_db_handler::ids::uuid_v4;

/// What drizzle-kit writes as `_meta` for a migration without a schema
/// diff: no renames to remember.
const NO_RENAMES: &str = "{\n    \"columns\": {},\n    \"schemas\": {},\n    \"tables\": {}\n  }";

/// `previous` as the snapshot of `entry`: a new `id`, `prevId` the old one,
/// no renames; every other byte as drizzle-kit wrote it.
pub fn next(previous: &str, entry: &Entry) -> Result<String, String> {
    let snapshot: Value = serde_json::from_str(previous).map_err(|e| format!("not JSON ({e})"))?;
    let previous_id = snapshot
        .get("id")
        .and_then(Value::as_str)
        .ok_or("it has no `id`")?;
    let id = uuid_for(previous_id, entry);
    let span = |key| top_level_value(previous, key).ok_or(format!("it has no `{key}`"));
    let mut edits = vec![
        (span("id")?, json!(id).to_string()),
        (span("prevId")?, json!(previous_id).to_string()),
    ];
    if let Some(meta) = top_level_value(previous, "_meta") {
        edits.push((meta, NO_RENAMES.to_string()));
    }
    // From the end, so that each span still points where it did.
    edits.sort_by_key(|(span, _)| std::cmp::Reverse(span.start));
    let mut text = previous.to_string();
    for (span, value) in edits {
        text.replace_range(span, &value);
    }
    Ok(text)
}

/// A version 4 UUID drawn from what makes the snapshot unique (the one
/// before it and the entry): drizzle-kit only needs ids to differ.
fn uuid_for(previous_id: &str, entry: &Entry) -> String {
    let digest = Sha256::digest(format!("{previous_id}/{}/{}", entry.tag, entry.when));
    uuid_v4(digest[..16].try_into().expect("16 of 32 bytes"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_copy_chains_to_the_previous_snapshot() {
        let previous = "{\n  \"id\": \"6a7ae35c-8da9-489b-b317-fd7b97ffb95d\",\n  \"prevId\": \"00000000-0000-0000-0000-000000000000\",\n  \"version\": \"7\",\n  \"tables\": {},\n  \"_meta\": {\n    \"columns\": {\"a\": \"b\"}\n  }\n}";
        let entry = Entry {
            idx: 1,
            tag: "0001_seed".to_string(),
            when: 1,
        };
        let copied = next(previous, &entry).unwrap();
        let snapshot: Value = serde_json::from_str(&copied).unwrap();
        assert_eq!(snapshot["prevId"], "6a7ae35c-8da9-489b-b317-fd7b97ffb95d");
        let id = snapshot["id"].as_str().unwrap();
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "4");
        assert!(
            copied.contains(
                "\"version\": \"7\",\n  \"tables\": {},\n  \"_meta\": {\n    \"columns\": {},"
            ),
            "the rest kept as written: {copied}"
        );
        assert_eq!(
            snapshot["_meta"],
            serde_json::json!({ "columns": {}, "schemas": {}, "tables": {} })
        );
    }
}
