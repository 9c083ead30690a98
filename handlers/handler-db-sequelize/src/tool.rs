//! sequelize-cli's stand-ins in the engine: the `sequelize` module (which a
//! migration's second argument, `Sequelize`, is) and the `queryInterface`
//! its `up` is given.

use faber_db_js::Tool;

pub const SEQUELIZE: Tool = Tool {
    module: "sequelize",
    allowed: "queryInterface (its schema and data calls and sequelize.query) and the data types \
              and helpers of Sequelize",
    prelude: ("faber-db:sequelize.js", include_str!("prelude.js")),
    parts: &[
        ("faber-db:data_types.js", include_str!("data_types.js")),
        ("faber-db:sql_text.js", include_str!("sql_text.js")),
    ],
};

#[cfg(test)]
mod tests {
    use faber_db_handler::types::Provider;
    use faber_db_js::{Engine, Session};

    use super::SEQUELIZE;

    /// The SQL the `up` of the migration `text` sends on `provider`,
    /// recorded.
    fn recorded(provider: Provider, text: &str) -> Result<Vec<String>, String> {
        let mut engine = Engine::new(provider, &SEQUELIZE)?;
        let exported = engine.load("20240101000000-test.js", text)?;
        let migration = exported.as_object().ok_or("no object")?;
        match engine.run(&migration, "up", Session::Recording(Vec::new())) {
            (Session::Recording(sql), Ok(())) => Ok(sql),
            (_, outcome) => outcome.map(|()| Vec::new()),
        }
    }

    fn migration(up: &str) -> String {
        format!(
            "'use strict';\n\
             module.exports = {{ async up (queryInterface, Sequelize) {{ {up} }} }};"
        )
    }

    /// `sequelize-cli model:generate`'s table, as Sequelize writes it on
    /// each provider (SQLite keeps the text).
    #[test]
    fn create_table_writes_what_sequelize_writes() {
        let text = migration(
            "await queryInterface.createTable('Users', {\n\
               id: { allowNull: false, autoIncrement: true, primaryKey: true, type: Sequelize.INTEGER },\n\
               name: { type: Sequelize.STRING },\n\
               email: { type: Sequelize.STRING(100), allowNull: false, unique: true },\n\
               active: { type: Sequelize.BOOLEAN, defaultValue: true },\n\
               createdAt: { allowNull: false, type: Sequelize.DATE } });",
        );
        assert_eq!(
            recorded(Provider::Sqlite, &text).unwrap(),
            [
                "CREATE TABLE IF NOT EXISTS `Users` (`id` INTEGER PRIMARY KEY AUTOINCREMENT, \
              `name` VARCHAR(255), `email` VARCHAR(100) NOT NULL UNIQUE, `active` TINYINT(1) \
              DEFAULT 1, `createdAt` DATETIME NOT NULL);"
            ]
        );
        assert_eq!(
            recorded(Provider::Postgresql, &text).unwrap(),
            [
                "CREATE TABLE IF NOT EXISTS \"Users\" (\"id\"   SERIAL , \"name\" VARCHAR(255), \
              \"email\" VARCHAR(100) NOT NULL UNIQUE, \"active\" BOOLEAN DEFAULT true, \
              \"createdAt\" TIMESTAMP WITH TIME ZONE NOT NULL, PRIMARY KEY (\"id\"));"
            ]
        );
        assert_eq!(
            recorded(Provider::Mysql, &text).unwrap(),
            [
                "CREATE TABLE IF NOT EXISTS `Users` (`id` INTEGER NOT NULL auto_increment , \
              `name` VARCHAR(255), `email` VARCHAR(100) NOT NULL UNIQUE, `active` TINYINT(1) \
              DEFAULT true, `createdAt` DATETIME NOT NULL, PRIMARY KEY (`id`)) ENGINE=InnoDB;"
            ]
        );
    }

    #[test]
    fn indexes_and_data_calls_write_what_sequelize_writes() {
        let text = migration(
            "await queryInterface.addIndex('Users', ['createdAt']);\n\
             await queryInterface.bulkInsert('Users', [{ name: \"o'neil\", at: new Date('2024-01-02T03:04:05.678Z') }]);\n\
             await queryInterface.bulkDelete('Users', { id: { [Sequelize.Op.in]: [1, 2] } });",
        );
        assert_eq!(
            recorded(Provider::Sqlite, &text).unwrap(),
            [
                "CREATE INDEX `users_created_at` ON `Users` (`createdAt`)",
                "INSERT INTO `Users` (`name`,`at`) VALUES ('o''neil','2024-01-02 03:04:05.678 +00:00');",
                "DELETE FROM `Users` WHERE `id` IN (1, 2)",
            ]
        );
        assert_eq!(
            recorded(Provider::Mysql, &text).unwrap()[..2],
            [
                "ALTER TABLE `Users` ADD INDEX `users_created_at` (`createdAt`)",
                "INSERT INTO `Users` (`name`,`at`) VALUES ('o\\'neil','2024-01-02 03:04:05');",
            ]
        );
    }

    #[test]
    fn what_sequelize_cli_refuses_or_rebuilds_a_table_for_on_sqlite_is_refused_by_name() {
        let refusal = |provider, up: &str| recorded(provider, &migration(up)).unwrap_err();
        assert!(
            refusal(
                Provider::Sqlite,
                "await queryInterface.removeConstraint('Users', 'users_email_uk');"
            )
            .contains("queryInterface.removeConstraint on SQLite")
        );
        assert!(
            refusal(Provider::Mysql, "await queryInterface.upsert('Users', {});")
                .contains("queryInterface.upsert")
        );
        assert!(
            refusal(Provider::Postgresql, "Sequelize.GEOMETRY;").contains("Sequelize.GEOMETRY")
        );
        assert!(
            refusal(Provider::Postgresql, "require('sequelize').Model;")
                .contains("Sequelize.Model")
        );
        let forgot_return = "module.exports = { up(queryInterface) { \
                             queryInterface.sequelize.query('SELECT 1'); } };";
        assert!(
            recorded(Provider::Sqlite, forgot_return)
                .unwrap_err()
                .contains("up() didn't return a promise")
        );
    }
}
