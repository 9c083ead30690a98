//! Drizzle Kit's journal, `meta/_journal.json`: the migrations in the order
//! Drizzle applies them, each with the time it was generated (`when`, in
//! milliseconds), which is also what Drizzle's migrator records.

use faber_db_handler::folder::Folder;
use faber_db_handler::types::{HandlerError, Provider};
use serde_json::{Value, json};

use crate::json_text;

/// Where drizzle-kit keeps it, relative to the migrations folder.
pub const PATH: &str = "meta/_journal.json";

/// One migration of the journal.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// Its number; drizzle-kit numbers a new entry after the last one's
    /// (`drizzle-kit drop` leaves gaps).
    pub idx: u64,
    /// The file's name without `.sql` (`0000_brave_hulk`).
    pub tag: String,
    /// When drizzle-kit generated it, in milliseconds since the epoch.
    pub when: i64,
}

impl Entry {
    pub fn file(&self) -> String {
        format!("{}.sql", self.tag)
    }

    /// The tag's prefix (`0000`), which also names the entry's snapshot.
    fn prefix(&self) -> &str {
        self.tag
            .split_once('_')
            .map_or(&self.tag, |(prefix, _)| prefix)
    }

    /// `meta/<prefix>_snapshot.json`, where drizzle-kit keeps the schema
    /// as it was after this migration.
    pub fn snapshot(&self) -> String {
        format!("meta/{}_snapshot.json", self.prefix())
    }
}

/// The journal as read, kept as text so that a new entry changes nothing else.
#[derive(Debug)]
pub struct Journal {
    text: String,
    document: Value,
    entries: Vec<Entry>,
}

impl Journal {
    /// The folder's journal, or `None` when it has none yet.
    pub fn read(folder: &Folder, provider: Provider) -> Result<Option<Journal>, HandlerError> {
        let Some(text) = folder.read_text_if_present(PATH)? else {
            return Ok(None);
        };
        let journal = Journal::parse(text).map_err(|reason| {
            HandlerError::Conflict(format!(
                "{PATH} is not a journal drizzle-kit wrote: {reason}; restore it from version \
                 control, or regenerate the folder with drizzle-kit generate"
            ))
        })?;
        journal.check_dialect(provider)?;
        Ok(Some(journal))
    }

    /// A journal with no entries, as drizzle-kit starts one for `provider`.
    pub fn new(provider: Provider) -> Journal {
        let text = format!(
            "{{\n  \"version\": \"7\",\n  \"dialect\": \"{}\",\n  \"entries\": []\n}}",
            dialect(provider)
        );
        Journal::parse(text).expect("the empty journal is one")
    }

    pub fn parse(text: String) -> Result<Journal, String> {
        let document: Value = serde_json::from_str(&text).map_err(|e| format!("not JSON ({e})"))?;
        let listed = document
            .get("entries")
            .and_then(Value::as_array)
            .ok_or("it has no `entries` list")?;
        let entries = listed
            .iter()
            .enumerate()
            .map(|(position, entry)| {
                let tag = entry.get("tag").and_then(Value::as_str);
                let when = entry.get("when").and_then(Value::as_i64);
                let idx = entry.get("idx").and_then(Value::as_u64);
                match (tag, when) {
                    (Some(tag), Some(when)) if is_file_name(tag) => Ok(Entry {
                        idx: idx.unwrap_or(position as u64),
                        tag: tag.to_string(),
                        when,
                    }),
                    _ => Err(format!("the entry {entry} has no plain `tag` and `when`")),
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Journal {
            text,
            document,
            entries,
        })
    }

    /// Oldest first: the order Drizzle applies them in.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    pub fn find(&self, tag: &str) -> Option<&Entry> {
        self.entries.iter().find(|entry| entry.tag == tag)
    }

    /// The entry a row recorded with `created_at` stands for.
    pub fn generated_at(&self, when: i64) -> Option<&Entry> {
        self.entries.iter().find(|entry| entry.when == when)
    }

    /// Adds an entry after the others, written as drizzle-kit writes one.
    pub fn push(&mut self, entry: Entry) {
        let version = self.document["entries"]
            .as_array()
            .and_then(|entries| entries.last())
            .and_then(|last| last.get("version").cloned())
            .unwrap_or_else(|| json!(snapshot_version(&self.document)));
        let listed = format!(
            "{{\n      \"idx\": {},\n      \"version\": {version},\n      \"when\": {},\n      \
             \"tag\": {},\n      \"breakpoints\": true\n    }}",
            entry.idx,
            entry.when,
            json!(entry.tag),
        );
        let span = json_text::top_level_value(&self.text, "entries")
            .expect("parse found the entries list");
        let list = &self.text[span.clone()];
        let kept = list[..list.len() - 1].trim_end();
        let separator = if kept == "[" { "" } else { "," };
        let written = format!("{kept}{separator}\n    {listed}\n  ]");
        self.text.replace_range(span, &written);
        self.entries.push(entry);
    }

    pub fn to_text(&self) -> &str {
        &self.text
    }

    /// A journal generated for another database than this environment's
    /// would apply SQL written for that one: refused before anything runs.
    fn check_dialect(&self, provider: Provider) -> Result<(), HandlerError> {
        let written = self.document.get("dialect").and_then(Value::as_str);
        let fits = matches!(
            (written, provider),
            (None, _)
                | (Some("postgresql"), Provider::Postgresql)
                | (Some("mysql"), Provider::Mysql)
                | (Some("sqlite" | "turso"), Provider::Sqlite)
        );
        if fits {
            return Ok(());
        }
        Err(HandlerError::InvalidRequest(format!(
            "{PATH} was generated for {}, but this environment's database is {}: set the \
             dialect in drizzle.config to {} and generate the migrations again, or point the \
             environment at a {} database",
            written.unwrap_or_default(),
            dialect(provider),
            dialect(provider),
            written.unwrap_or_default(),
        )))
    }
}

/// drizzle-kit's `dialect` for a provider.
fn dialect(provider: Provider) -> &'static str {
    match provider {
        Provider::Postgresql => "postgresql",
        Provider::Mysql => "mysql",
        Provider::Sqlite => "sqlite",
    }
}

/// The snapshot format drizzle-kit 0.31 writes into each entry's `version`.
fn snapshot_version(document: &Value) -> &'static str {
    match document.get("dialect").and_then(Value::as_str) {
        Some("mysql") => "5",
        Some("sqlite" | "turso") => "6",
        _ => "7",
    }
}

/// A tag names a file directly in the folder: nothing that climbs out or
/// hides.
fn is_file_name(tag: &str) -> bool {
    !tag.is_empty() && !tag.starts_with('.') && !tag.contains(['/', '\\'])
}

#[cfg(test)]
mod tests {
    use super::*;

    const WRITTEN: &str = r#"{
  "version": "7",
  "dialect": "mysql",
  "entries": [
    {
      "idx": 0,
      "version": "5",
      "when": 1796604063841,
      "tag": "0000_init",
      "breakpoints": true
    }
  ]
}"#;

    #[test]
    fn reads_entries_and_writes_a_new_one_as_drizzle_kit_does() {
        let mut journal = Journal::parse(WRITTEN.to_string()).unwrap();
        assert_eq!(
            journal.entries(),
            [Entry {
                idx: 0,
                tag: "0000_init".to_string(),
                when: 1796604063841
            }]
        );
        assert_eq!(journal.to_text(), WRITTEN, "read and written unchanged");
        journal.push(Entry {
            idx: 1,
            tag: "0001_users".to_string(),
            when: 1796604063900,
        });
        let written = journal.to_text();
        assert!(
            written.ends_with(
                "    {\n      \"idx\": 1,\n      \"version\": \"5\",\n      \"when\": 1796604063900,\n      \"tag\": \"0001_users\",\n      \"breakpoints\": true\n    }\n  ]\n}"
            ),
            "{written}"
        );
        assert_eq!(
            journal.generated_at(1796604063900).unwrap().tag,
            "0001_users"
        );
    }

    #[test]
    fn a_new_journal_is_drizzle_kits_empty_one() {
        let mut journal = Journal::new(Provider::Sqlite);
        journal.push(Entry {
            idx: 0,
            tag: "0000_init".to_string(),
            when: 5,
        });
        let reread = Journal::parse(journal.to_text().to_string()).unwrap();
        assert_eq!(reread.document["dialect"], "sqlite");
        assert_eq!(reread.document["entries"][0]["version"], "6");
        assert_eq!(reread.entries()[0].snapshot(), "meta/0000_snapshot.json");
    }

    #[test]
    fn a_tag_that_leaves_the_folder_is_refused() {
        for tag in ["../x", "a/b", ".hidden", ""] {
            let text = format!(r#"{{"entries":[{{"tag":"{tag}","when":1}}]}}"#);
            assert!(Journal::parse(text).is_err(), "{tag}");
        }
    }

    #[test]
    fn a_journal_for_another_dialect_is_refused() {
        let journal = Journal::parse(WRITTEN.to_string()).unwrap();
        assert!(journal.check_dialect(Provider::Mysql).is_ok());
        match journal.check_dialect(Provider::Postgresql) {
            Err(HandlerError::InvalidRequest(message)) => {
                assert!(message.contains("generated for mysql"), "{message}")
            }
            other => panic!("{other:?}"),
        }
    }
}
