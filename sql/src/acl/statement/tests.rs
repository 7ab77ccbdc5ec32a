//! Tests of the ACL statement grammar: recognition by the first words and parsing of each
//! statement form.

use super::*;

#[test]
fn recognises_statements_by_their_first_words_only() {
    assert!(is_acl_statement("  create user alice password 'x'"));
    assert!(is_acl_statement("/* c */ GRANT SELECT ON t TO bob"));
    assert!(is_acl_statement("set local role r"));
    assert!(is_acl_statement("SET SESSION AUTHORIZATION DEFAULT"));
    assert!(is_acl_statement("reset role"));
    assert!(!is_acl_statement("SET search_path = x"));
    assert!(!is_acl_statement("SET SESSION search_path = x"));
    assert!(!is_acl_statement("CREATE TABLE role (x int)"));
    assert!(!is_acl_statement("SELECT 'GRANT'"));
}

#[test]
fn create_role_reads_every_option() {
    let s = parse(
        "CREATE ROLE \"Ann\" WITH LOGIN NOSUPERUSER CREATEDB CONNECTION LIMIT 3 \
         ENCRYPTED PASSWORD 'pw' VALID UNTIL '2030-01-01' IN ROLE staff, sales ADMIN boss",
    )
    .unwrap();
    let AclStatement::CreateRole {
        keyword,
        name,
        options,
    } = s
    else {
        panic!("{s:?}")
    };
    assert_eq!(keyword, RoleKeyword::Role);
    assert_eq!(name, "Ann");
    assert_eq!(
        options,
        vec![
            RoleOption::Flag("LOGIN", true),
            RoleOption::Flag("SUPERUSER", false),
            RoleOption::Flag("CREATEDB", true),
            RoleOption::ConnectionLimit(3),
            RoleOption::Password(Some("pw".into())),
            RoleOption::ValidUntil("2030-01-01".into()),
            RoleOption::InRole(vec!["staff".into(), "sales".into()]),
            RoleOption::Admins(vec!["boss".into()]),
        ]
    );
    assert!(parse("CREATE ROLE r WITH FLY").is_err());
    assert!(parse("CREATE ROLE").is_err());
    assert_eq!(
        parse("CREATE ROLE r CONNECTION LIMIT -1").unwrap(),
        AclStatement::CreateRole {
            keyword: RoleKeyword::Role,
            name: "r".into(),
            options: vec![RoleOption::ConnectionLimit(-1)]
        }
    );
}

#[test]
fn grant_tells_roles_from_privileges() {
    assert_eq!(
        parse("GRANT staff, sales TO ann WITH ADMIN OPTION").unwrap(),
        AclStatement::GrantRole {
            roles: vec!["staff".into(), "sales".into()],
            grantees: vec![RoleSpec::Name("ann".into())],
            admin_option: true,
            granted_by: None,
        }
    );
    let s =
        parse("GRANT SELECT (a, b), UPDATE ON TABLE s.t, u TO PUBLIC, GROUP g WITH GRANT OPTION")
            .unwrap();
    assert_eq!(
        s,
        AclStatement::GrantPrivileges {
            privileges: vec![
                PrivilegeItem {
                    name: "SELECT".into(),
                    columns: vec!["a".into(), "b".into()]
                },
                PrivilegeItem {
                    name: "UPDATE".into(),
                    columns: vec![]
                },
            ],
            objects: Objects::Tables(vec![vec!["s".into(), "t".into()], vec!["u".into()]]),
            grantees: vec![RoleSpec::Public, RoleSpec::Name("g".into())],
            grant_option: true,
            granted_by: None,
        }
    );
    assert_eq!(
        parse("REVOKE GRANT OPTION FOR ALL PRIVILEGES ON ALL TABLES IN SCHEMA public FROM bob CASCADE")
            .unwrap(),
        AclStatement::RevokePrivileges {
            privileges: vec![PrivilegeItem {
                name: "ALL".into(),
                columns: vec![]
            }],
            objects: Objects::AllTablesInSchema(vec!["public".into()]),
            grantees: vec![RoleSpec::Name("bob".into())],
            grant_option_only: true,
            cascade: true,
        }
    );
    assert_eq!(
        parse("GRANT EXECUTE ON FUNCTION f(integer, text) TO r").unwrap(),
        AclStatement::GrantPrivileges {
            privileges: vec![PrivilegeItem {
                name: "EXECUTE".into(),
                columns: vec![]
            }],
            objects: Objects::Functions(vec![(vec!["f".into()], Some("integer,text".into()))]),
            grantees: vec![RoleSpec::Name("r".into())],
            grant_option: false,
            granted_by: None,
        }
    );
    assert!(parse("GRANT FLY ON t TO r").is_err());
    assert!(parse("GRANT SELECT ON t").is_err());
}

#[test]
fn set_role_and_session_authorization() {
    assert_eq!(
        parse("SET ROLE 'ann'").unwrap(),
        AclStatement::SetRole {
            role: Some("ann".into()),
            local: false
        }
    );
    assert_eq!(
        parse("SET LOCAL ROLE NONE").unwrap(),
        AclStatement::SetRole {
            role: None,
            local: true
        }
    );
    assert_eq!(
        parse("RESET SESSION AUTHORIZATION").unwrap(),
        AclStatement::SetSessionAuthorization {
            user: None,
            local: false
        }
    );
    assert_eq!(
        parse("SET SESSION SESSION AUTHORIZATION bob;").unwrap(),
        AclStatement::SetSessionAuthorization {
            user: Some("bob".into()),
            local: false
        }
    );
}
