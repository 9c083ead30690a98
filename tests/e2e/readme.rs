//! The README's guarantee map names tests that exist: a guarantee that
//! points at a renamed or missing test proves nothing.

use std::path::Path;

/// Every `module::test` (or `…test` in the previous module, `…` at the end
/// meaning "a name that starts so", `module::*` meaning the whole module) and
/// every `path.rs` with unit tests named in the Guarantees section.
#[test]
fn the_guarantee_map_names_tests_that_exist() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let section = readme
        .split("## Guarantees")
        .nth(1)
        .and_then(|rest| rest.split("\n## ").next())
        .expect("the README has a Guarantees section");
    let mut checked = 0;
    for row in section.lines().filter(|line| line.starts_with("| ")) {
        let Some(cell) = row.trim_end_matches('|').rsplit(" | ").next() else {
            continue;
        };
        let mut module = String::new();
        for reference in cell.split('`').skip(1).step_by(2) {
            if reference.ends_with(".rs") || reference.ends_with('/') {
                let exists =
                    root.join("host/src").join(reference).exists() || root.join(reference).exists();
                assert!(exists, "{reference} is named but does not exist");
                checked += 1;
                continue;
            }
            let reference = reference.trim_start_matches('…');
            let name = match reference.split_once("::") {
                Some((named_module, name)) => {
                    module = named_module.to_owned();
                    name
                }
                None if !module.is_empty()
                    && reference.contains('_')
                    && reference
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c == '_' || c == '…') =>
                {
                    reference
                }
                None => continue,
            };
            let file = root.join("tests/e2e").join(format!("{module}.rs"));
            let source = std::fs::read_to_string(&file)
                .unwrap_or_else(|_| panic!("module {module} (for {reference}) has no file"));
            let found = match name.strip_suffix('…') {
                _ if name == "*" => source.contains("#[test]") || source.contains("#[tokio::test]"),
                Some(prefix) => source.contains(&format!("fn {prefix}")),
                None => source.contains(&format!("fn {name}()")),
            };
            assert!(
                found,
                "the README names {module}::{name}, which does not exist"
            );
            checked += 1;
        }
    }
    assert!(
        checked > 20,
        "only {checked} references were found: is the table intact?"
    );
}
