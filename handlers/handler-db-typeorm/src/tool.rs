//! TypeORM's stand-ins in the engine: the `typeorm` module (its schema
//! classes) and the query runner a migration's `up` is given.

use faber_db_js::Tool;

pub const TYPEORM: Tool = Tool {
    module: "typeorm",
    allowed: "queryRunner (query and the schema builder) and the classes of \"typeorm\"",
    prelude: ("faber-db:typeorm.js", include_str!("prelude.js")),
    parts: &[(
        "faber-db:schema_builder.js",
        include_str!("schema_builder.js"),
    )],
};

#[cfg(test)]
mod tests {
    use faber_db_handler::types::Provider;
    use faber_db_js::{Engine, Session};

    use super::TYPEORM;

    /// The SQL `up` of the one class `text` exports sends, recorded.
    fn recorded(path: &str, text: &str) -> Result<Vec<String>, String> {
        let mut engine = Engine::new(Provider::Postgresql, &TYPEORM)?;
        let exported = engine.load(path, text)?;
        let classes = engine.classes(&exported)?;
        assert_eq!(classes.len(), 1, "{path}");
        let instance = engine.instantiate(&classes[0])?;
        match engine.run(&instance, "up", Session::Recording(Vec::new())) {
            (Session::Recording(sql), Ok(())) => Ok(sql),
            (_, outcome) => outcome.map(|()| Vec::new()),
        }
    }

    #[test]
    fn common_js_and_es_module_migrations_run_against_a_recording() {
        let common_js = "const { Table } = require(\"typeorm\");\n\
            module.exports = class A1700000000000 {\n\
              async up(queryRunner) { await queryRunner.query(`CREATE TABLE a (id int)`); }\n\
            };";
        assert_eq!(
            recorded("1700000000000-A.js", common_js).unwrap(),
            ["CREATE TABLE a (id int)"]
        );
        let module = "import { TableColumn } from \"typeorm\";\n\
            export class B1700000000001 {\n\
              async up(queryRunner) {\n\
                const rows = await queryRunner.query(\"SELECT id FROM a\");\n\
                for (const row of rows) await queryRunner.query(\"UPDATE a SET id = $1\", [row.id]);\n\
                await queryRunner.query(`-- ${typeof TableColumn}`);\n\
              }\n\
            }";
        assert_eq!(
            recorded("1700000000001-B.mjs", module).unwrap(),
            ["SELECT id FROM a", "-- function"]
        );
    }

    #[test]
    fn the_schema_builder_writes_what_typeorm_writes() {
        let up = "await queryRunner.createTable(new Table({ name: \"posts\", columns: [\n\
              { name: \"id\", type: \"int\", isPrimary: true, isGenerated: true, generationStrategy: \"increment\" },\n\
              { name: \"slug\", type: \"varchar\", isUnique: true },\n\
              { name: \"user_id\", type: \"int\", isNullable: true }],\n\
              foreignKeys: [{ columnNames: [\"user_id\"], referencedTableName: \"users\", referencedColumnNames: [\"id\"], onDelete: \"CASCADE\" }],\n\
              indices: [{ columnNames: [\"user_id\"] }] }));";
        let text = format!(
            "const {{ Table }} = require(\"typeorm\");\n\
             module.exports = class P1 {{ async up(queryRunner) {{ {up} }} }};"
        );
        assert_eq!(
            recorded("P.js", &text).unwrap(),
            [
                "CREATE TABLE \"posts\" (\"id\" SERIAL NOT NULL, \"slug\" varchar NOT NULL, \
                 \"user_id\" int, CONSTRAINT \"UQ_54ddf9075260407dcfdd7248577\" UNIQUE (\"slug\"), \
                 CONSTRAINT \"FK_c4f9a7bd77b489e711277ee5986\" FOREIGN KEY (\"user_id\") REFERENCES \
                 \"users\" (\"id\") ON DELETE CASCADE, CONSTRAINT \"PK_2829ac61eff60fcec60d7274b9e\" \
                 PRIMARY KEY (\"id\"))",
                "CREATE INDEX \"IDX_c4f9a7bd77b489e711277ee598\" ON \"posts\"  (\"user_id\") "
            ]
        );
    }

    #[test]
    fn what_node_would_give_is_refused_by_name() {
        let reach = |up: &str| {
            let text = format!("module.exports = class C1 {{ async up(queryRunner) {{ {up} }} }};");
            recorded("C.js", &text).unwrap_err()
        };
        assert!(
            reach("require(\"child_process\");")
                .contains("require(\"child_process\") is not available")
        );
        assert!(reach("process.exit(0);").contains("process.exit is not available"));
        assert!(
            reach("await queryRunner.renameColumn(\"a\", \"b\", \"c\");")
                .contains("queryRunner.renameColumn")
        );
        assert!(reach("await new Promise(() => {});").contains("never settles"));
    }
}
