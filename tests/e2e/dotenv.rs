//! Connection variables kept in the project's `.env` (as Prisma, dbmate and
//! sqlx-cli read it): the environment wins, `--env-file` names another
//! file, and a value from the file is never shown.

use crate::support::{Project, Server, Target, assert_never_shown, unique};

fn write_env(project: &Project, file: &str, text: &str) {
    let path = project.path().join(file);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

#[test]
fn a_connection_variable_only_in_dotenv_serves_init_migrate_and_status() {
    let project = Project::new("sqlite");
    let target = Target::new(Server::Sqlite, &unique("dotenv"), project.path());
    write_env(
        &project,
        ".env",
        &format!(
            "# kept here, as Prisma projects do\nexport DEV_DATABASE_URL=\"{}\"\n",
            target.url()
        ),
    );
    project
        .run(&["init", "dev", "--json"], &[])
        .assert_success();
    assert!(target.exists());
    let migrated = project
        .run(&["migrate", "dev", "--json"], &[])
        .assert_success();
    assert_eq!(migrated["result"]["database_name"], target.name.as_str());
    let status = project.run(&["status", "dev", "--json"], &[]);
    assert_eq!(status.code, 0, "{}", status.stdout);

    // Set in the environment, the variable wins over the file.
    let other = Target::new(Server::Sqlite, &unique("dotenv_env"), project.path());
    project
        .run(
            &["init", "dev", "--json"],
            &[("DEV_DATABASE_URL", &other.url())],
        )
        .assert_success();
    assert!(other.exists());

    // --env-file names another file, and the project's .env is not read.
    let named = Target::new(Server::Sqlite, &unique("dotenv_named"), project.path());
    write_env(
        &project,
        "config/ci.env",
        &format!("DEV_DATABASE_URL={}\n", named.url()),
    );
    let env_file = project.path().join("config/ci.env");
    project
        .run(
            &[
                "init",
                "dev",
                "--env-file",
                env_file.to_str().unwrap(),
                "--json",
            ],
            &[],
        )
        .assert_success();
    assert!(named.exists());

    // A variable in neither place is reported with both places named.
    let missing = project.run(&["init", "staging", "--json"], &[]);
    assert_eq!(missing.code, 1, "{}", missing.stdout);
    let report = missing.json();
    assert!(
        report["cause"].as_str().unwrap().contains(".env"),
        "{report}"
    );

    // --env-file naming a file that is not there is an error, not silence.
    let absent = project.run(
        &[
            "init",
            "dev",
            "--env-file",
            "/nonexistent/faber.env",
            "--json",
        ],
        &[],
    );
    assert_eq!(absent.code, 1, "{}", absent.stdout);
    assert!(
        absent.stdout.contains("/nonexistent/faber.env"),
        "{}",
        absent.stdout
    );
}

#[test]
fn a_password_in_dotenv_appears_in_no_output_or_log() {
    let secret = "Dotenv-S3cret-7f1c";
    let project = Project::new("postgresql");
    let target = Target::new(Server::Postgres, &unique("dotenv_pw"), project.path());
    write_env(
        &project,
        ".env",
        &format!("DEV_DATABASE_URL='{}'\n", target.url_with_password(secret)),
    );
    let mut outputs = Vec::new();
    for args in [
        vec!["init", "dev", "--json"],
        vec!["init", "dev", "-vv"],
        vec!["status", "dev", "-vv"],
        vec!["migrate", "dev", "--json", "-vv"],
    ] {
        let run = project.run(&args, &[]);
        outputs.push((format!("{args:?} stdout"), run.stdout));
        outputs.push((format!("{args:?} stderr"), run.stderr));
    }
    assert!(target.exists());
    let env_file = project.path().join(".env");
    let kept = std::fs::read_to_string(&env_file).unwrap();
    std::fs::remove_file(&env_file).unwrap();
    assert_never_shown(secret, &outputs, &[project.path()]);
    std::fs::write(&env_file, kept).unwrap();

    // A line that cannot be parsed is reported by its number, not its text.
    write_env(
        &project,
        ".env",
        &format!("DEV_DATABASE_URL=ok\nnot an assignment {secret}\n"),
    );
    let broken = project.run(&["status", "dev", "--json"], &[]);
    assert_ne!(broken.code, 0);
    assert!(broken.stdout.contains("line 2"), "{}", broken.stdout);
    assert_never_shown(secret, &[("broken".to_owned(), broken.stdout)], &[]);
}
