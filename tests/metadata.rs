//! The metadata reader on real documents: the built-in page's types from the beta document
//! (as `../shared/spec/FACTS.md` lists them), real v1.0 types from the whole public document
//! (an open type, a base other than `entity`, nested complex types, collections and enums),
//! a name in two namespaces, comparisons and the writer's round trip on real closures.

use graph_contract::derive::metadata::{self, compare, write, Limits, Metadata, MetadataError, TypeDef};

const BETA: &str = include_str!("fixtures/metadata/beta-mobileAppInstallStatus.csdl");
const V1: &str = include_str!("fixtures/metadata/v1.0-Prod.csdl");

fn beta() -> Metadata {
    metadata::parse(BETA.as_bytes(), Limits::default()).expect("the beta fixture reads")
}

fn v1() -> &'static Metadata {
    static V1_META: std::sync::OnceLock<Metadata> = std::sync::OnceLock::new();
    V1_META.get_or_init(|| metadata::parse(V1.as_bytes(), Limits::default()).expect("the v1.0 document reads"))
}

/// (name, type, nullable) of every effective property.
fn props(m: &Metadata, name: &str, ns: Option<&str>) -> Vec<(String, String, bool)> {
    let t = m.find_structured(name, ns).unwrap();
    m.properties(t)
        .unwrap()
        .iter()
        .map(|p| (p.property.name.clone(), p.property.ty.canonical(), p.property.nullable))
        .collect()
}

fn enum_members(m: &Metadata, name: &str) -> Vec<(String, i64)> {
    match m.find(name, None).unwrap() {
        TypeDef::Enum(e) => e.members.iter().map(|m| (m.name.clone(), m.value)).collect(),
        other => panic!("{name} is {other:?}"),
    }
}

#[test]
fn the_built_in_types_are_those_of_facts_md() {
    let m = beta();
    let mut got = props(&m, "mobileAppInstallStatus", Some("microsoft.graph"));
    got.sort();
    let s = |n: &str, t: &str, null: bool| (n.to_string(), t.to_string(), null);
    let mut want = vec![
        s("id", "Edm.String", false),
        s("deviceName", "Edm.String", true),
        s("deviceId", "Edm.String", true),
        s("osVersion", "Edm.String", true),
        s("osDescription", "Edm.String", true),
        s("userName", "Edm.String", true),
        s("userPrincipalName", "Edm.String", true),
        s("displayVersion", "Edm.String", true),
        s("lastSyncDateTime", "Edm.DateTimeOffset", false),
        s("mobileAppInstallStatusValue", "microsoft.graph.resultantAppState", false),
        s("installState", "microsoft.graph.resultantAppState", false),
        s("installStateDetail", "microsoft.graph.resultantAppStateDetail", false),
        s("errorCode", "Edm.Int32", false),
    ];
    want.sort();
    assert_eq!(got, want);
    let t = m.find_structured("mobileAppInstallStatus", None).unwrap();
    let (key, by) = m.key(t).unwrap().unwrap();
    assert_eq!((key, by.name.as_str()), (&["id".to_string()][..], "entity"));
    assert!(!m.is_open(t).unwrap(), "the type is not open");
    assert!(m.derived_types(t).is_empty(), "no derived types exist");
    assert!(m.properties(t).unwrap().iter().all(|p| !p.property.read_only()), "no property is marked read-only");
    let nav: Vec<&str> = m.navigation(t).unwrap().iter().map(|n| n.property.name.as_str()).collect();
    assert_eq!(nav, ["app"]);

    let mut state = enum_members(&m, "resultantAppState");
    state.sort_by_key(|(n, _)| n.clone());
    let e = |n: &str, v: i64| (n.to_string(), v);
    let mut want = vec![
        e("installed", 1),
        e("failed", 2),
        e("notInstalled", 3),
        e("uninstallFailed", 4),
        e("pendingInstall", 5),
        e("unknown", 99),
        e("notApplicable", -1),
    ];
    want.sort();
    assert_eq!(state, want);

    // FACTS.md's list of resultantAppStateDetail, in its words.
    let facts = "noAdditionalDetails=0, dependencyFailedToInstall=1,
dependencyWithRequirementsNotMet=2, dependencyPendingReboot=3, dependencyWithAutoInstallDisabled=4,
supersededAppUninstallFailed=5, supersededAppUninstallPendingReboot=6, removingSupersededApps=7,
iosAppStoreUpdateFailedToInstall=1000, vppAppHasUpdateAvailable=1001, userRejectedUpdate=1002,
uninstallPendingReboot=1003, supersedingAppsDetected=1004, supersededAppsDetected=1005,
seeInstallErrorCode=2000, autoInstallDisabled=3000, managedAppNoLongerPresent=3001,
userRejectedInstall=3002, userIsNotLoggedIntoAppStore=3003, untargetedSupersedingAppsDetected=3004,
appRemovedBySupersedence=3005, seeUninstallErrorCode=4000, pendingReboot=5000,
installingDependencies=5001, contentDownloaded=5002, supersedingAppsNotApplicable=-1016,
powerShellScriptRequirementNotMet=-1013, registryRequirementNotMet=-1012,
fileSystemRequirementNotMet=-1011, platformNotApplicable=-1006, minimumCpuSpeedNotMet=-1005,
minimumLogicalProcessorCountNotMet=-1004, minimumPhysicalMemoryNotMet=-1003,
minimumOsVersionNotMet=-1002, minimumDiskSpaceNotMet=-1001, processorArchitectureNotApplicable=-1000.";
    let mut want: Vec<(String, i64)> = facts
        .trim_end_matches('.')
        .split(',')
        .map(|pair| {
            let (n, v) = pair.trim().split_once('=').unwrap();
            (n.to_string(), v.parse().unwrap())
        })
        .collect();
    assert_eq!(want.len(), 36);
    want.sort();
    let mut detail = enum_members(&m, "resultantAppStateDetail");
    detail.sort();
    assert_eq!(detail, want);
    let closure = m.closure(t).unwrap();
    assert_eq!(closure.structured, ["microsoft.graph.mobileAppInstallStatus", "microsoft.graph.entity"]);
    assert_eq!(closure.enums, ["microsoft.graph.resultantAppState", "microsoft.graph.resultantAppStateDetail"]);
    assert_eq!(m.containers[0].items[0].name, "deviceAppManagement");
    assert!(m.containers[0].items[0].singleton);
}

#[test]
fn group_is_open_with_the_deleted_date_time_of_directory_object_and_the_key_of_entity() {
    let m = v1();
    let group = m.find_structured("group", Some("microsoft.graph")).unwrap();
    assert!(group.open);
    let chain: Vec<String> = m.base_chain(group).unwrap().iter().map(|t| t.qualified()).collect();
    assert_eq!(chain, ["microsoft.graph.directoryObject", "microsoft.graph.entity"]);
    let props = m.properties(group).unwrap();
    assert_eq!((props[0].property.name.as_str(), props[0].declared_by.name.as_str()), ("id", "entity"));
    let deleted = &props[1];
    assert_eq!(
        (deleted.property.name.as_str(), deleted.declared_by.name.as_str()),
        ("deletedDateTime", "directoryObject")
    );
    assert_eq!(deleted.property.ty.name, "Edm.DateTimeOffset");
    assert!(deleted.property.nullable);
    let (key, by) = m.key(group).unwrap().unwrap();
    assert_eq!((key, by.name.as_str()), (&["id".to_string()][..], "entity"));
    let names: Vec<&str> = props.iter().map(|p| p.property.name.as_str()).collect();
    for n in ["displayName", "mailEnabled", "assignedLabels", "visibility", "groupTypes"] {
        assert!(names.contains(&n), "{n} in {names:?}");
    }
    let labels = props.iter().find(|p| p.property.name == "assignedLabels").unwrap();
    assert_eq!(labels.property.ty.canonical(), "Collection(microsoft.graph.assignedLabel)");
    let nav: Vec<&str> = m.navigation(group).unwrap().iter().map(|n| n.property.name.as_str()).collect();
    assert!(
        nav.contains(&"members") && nav.contains(&"owners") && !names.contains(&"members"),
        "navigation kept apart"
    );
    // directoryObject is abstract? No: it is concrete and open; group derives from it.
    let directory_object = m.find_structured("directoryObject", None).unwrap();
    let derived: Vec<&str> = m.derived_types(directory_object).iter().map(|t| t.name.as_str()).collect();
    assert!(derived.contains(&"group") && derived.contains(&"user"), "{derived:?}");
}

#[test]
fn the_name_group_is_ambiguous_across_namespaces() {
    let m = v1();
    let err = m.find("group", None).unwrap_err();
    assert_eq!(
        err,
        MetadataError::Ambiguous {
            name: "group".into(),
            namespaces: vec!["microsoft.graph".into(), "microsoft.graph.termStore".into()]
        }
    );
    let term_store = m.find_structured("group", Some("microsoft.graph.termStore")).unwrap();
    assert_ne!(
        term_store.line,
        m.find_structured("group", Some("graph")).unwrap().line,
        "the alias finds microsoft.graph"
    );
    assert!(!term_store.open);
    assert_eq!(m.find("microsoft.graph.termStore.group", None).unwrap().line(), term_store.line);
    // `user` too: microsoft.graph and microsoft.graph.security.
    assert!(matches!(m.find("user", None), Err(MetadataError::Ambiguous { .. })));
}

#[test]
fn user_derives_from_directory_object_not_entity() {
    let m = v1();
    let user = m.find_structured("user", Some("microsoft.graph")).unwrap();
    assert_eq!(user.base.as_ref().unwrap().name, "microsoft.graph.directoryObject");
    assert!(m.is_open(user).unwrap());
    let props = props(m, "user", Some("microsoft.graph"));
    assert_eq!(props[0], ("id".into(), "Edm.String".into(), false));
    assert_eq!(props[1], ("deletedDateTime".into(), "Edm.DateTimeOffset".into(), true));
    assert!(props.contains(&("accountEnabled".into(), "Edm.Boolean".into(), true)));
    assert!(props.contains(&("businessPhones".into(), "Collection(Edm.String)".into(), false)));
    // The security namespace's user derives from its own identityAccounts (alias `self`).
    let sec = m.find_structured("user", Some("microsoft.graph.security")).unwrap();
    assert_eq!(sec.base.as_ref().unwrap().written, "self.identityAccounts");
    assert_eq!(sec.base.as_ref().unwrap().name, "microsoft.graph.security.identityAccounts");
    assert!(m.base_chain(sec).is_ok());
}

#[test]
fn todo_task_uses_nested_complex_types_collections_and_enums() {
    let m = v1();
    let task = m.find_structured("todoTask", None).unwrap();
    let closure = m.closure(task).unwrap();
    for t in ["itemBody", "dateTimeTimeZone", "patternedRecurrence", "recurrencePattern", "recurrenceRange", "entity"] {
        assert!(closure.structured.contains(&format!("microsoft.graph.{t}")), "{t} in {:?}", closure.structured);
    }
    for e in [
        "importance",
        "taskStatus",
        "bodyType",
        "dayOfWeek",
        "weekIndex",
        "recurrencePatternType",
        "recurrenceRangeType",
    ] {
        assert!(closure.enums.contains(&format!("microsoft.graph.{e}")), "{e} in {:?}", closure.enums);
    }
    assert!(
        !closure.structured.iter().any(|t| t.ends_with(".attachmentBase")),
        "navigation targets are other resources"
    );
    assert_eq!(enum_members(m, "importance"), [("low".into(), 0), ("normal".into(), 1), ("high".into(), 2)]);
    assert_eq!(enum_members(m, "taskStatus").len(), 5);
    let pattern = m.find_structured("recurrencePattern", None).unwrap();
    let days = pattern.properties.iter().find(|p| p.name == "daysOfWeek").unwrap();
    assert!(days.ty.collection);
    assert_eq!(days.ty.name, "microsoft.graph.dayOfWeek");
    let p = props(m, "todoTask", None);
    assert!(p.contains(&("status".into(), "microsoft.graph.taskStatus".into(), false)));
    assert!(p.contains(&("categories".into(), "Collection(Edm.String)".into(), true)));

    // event: base outlookItem (abstract), open, locations a collection of a complex type.
    let event = m.find_structured("event", None).unwrap();
    assert!(event.open);
    let outlook = m.find_structured("outlookItem", None).unwrap();
    assert!(outlook.is_abstract);
    let declared: Vec<(&str, &str)> = m
        .properties(event)
        .unwrap()
        .iter()
        .take(5)
        .map(|p| (p.property.name.as_str(), p.declared_by.name.as_str()))
        .collect();
    assert_eq!(declared[0], ("id", "entity"));
    assert!(declared[1..].iter().all(|(_, by)| *by == "outlookItem"), "{declared:?}");
    let c = m.closure(event).unwrap();
    assert!(c.structured.contains(&"microsoft.graph.location".to_string()));
    assert!(c.structured.contains(&"microsoft.graph.physicalAddress".to_string()));
    assert!(c.enums.contains(&"microsoft.graph.onlineMeetingProviderType".to_string()));
}

#[test]
fn read_only_properties_of_the_real_document_come_from_its_annotations() {
    let m = v1();
    let app = m.find_structured("androidStoreApp", None).unwrap();
    let package = app.properties.iter().find(|p| p.name == "packageId").unwrap();
    assert!(package.computed && package.read_only());
    assert_eq!(package.permissions.as_deref(), Some(&["Read".to_string()][..]));
    assert_eq!(package.description.as_deref(), Some("The package identifier. This property is read-only."));
    let created =
        m.find_structured("application", None).unwrap().properties.iter().find(|p| p.name == "createdByAppId");
    assert!(created.is_some_and(|p| p.immutable && p.read_only()));
    let group = m.find_structured("group", Some("graph")).unwrap();
    assert!(!group.properties.iter().find(|p| p.name == "displayName").unwrap().read_only());
}

#[test]
fn the_whole_v1_document_resolves_and_agrees_with_itself() {
    let m = v1();
    assert_eq!((m.structured.len(), m.enums.len()), (1182 + 1779, 861));
    assert_eq!(m.schemas.len(), 11);
    let dangling: Vec<String> = m.dangling().iter().map(|e| e.to_string()).collect();
    assert_eq!(dangling, Vec::<String>::new());
    for t in ["microsoft.graph.group", "microsoft.graph.user", "microsoft.graph.todoTask", "microsoft.graph.event"] {
        assert_eq!(compare(m, m, t).unwrap(), vec![], "{t}");
    }
}

#[test]
fn the_writer_round_trips_real_closures() {
    let m = v1();
    for (name, ns) in [
        ("event", None),
        ("group", Some("microsoft.graph")),
        ("todoTask", None),
        ("group", Some("microsoft.graph.termStore")),
    ] {
        let t = m.find_structured(name, ns).unwrap();
        let text = write(m, &m.closure(t).unwrap());
        let back = metadata::parse(text.as_bytes(), Limits::default()).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(back.dangling().is_empty(), "{name}: {:?}", back.dangling());
        let q = t.qualified();
        // Navigation properties to types outside the closure are left out: only those differ.
        let d = compare(m, &back, &q).unwrap();
        assert!(d.iter().all(|d| d.id.contains("/navigation/")), "{name}: {d:?}");
        let d = compare(&back, m, &q).unwrap();
        assert!(d.iter().all(|d| d.id.contains("/navigation/") && d.expected.words == "absent"), "{name}: {d:?}");
    }
    // The beta document's types, the route's too: nothing lost at all.
    let b = beta();
    let types: Vec<_> = b.structured.iter().collect();
    let text = write(&b, &b.closure_all(&types).unwrap());
    let back = metadata::parse(text.as_bytes(), Limits::default()).unwrap();
    for t in &b.structured {
        assert_eq!(compare(&b, &back, &t.qualified()).unwrap(), vec![], "{}", t.name);
    }
    let items = |m: &Metadata| -> Vec<(String, bool, String)> {
        m.containers[0].items.iter().map(|i| (i.name.clone(), i.singleton, i.ty.name.clone())).collect()
    };
    assert_eq!(items(&back), items(&b));
}

#[test]
fn a_target_that_differs_from_the_beta_document_gets_one_disagreement_per_fault() {
    let m = beta();
    let target = BETA
        .replace(
            r#"<Property Name="errorCode" Type="Edm.Int32" Nullable="false" />"#,
            r#"<Property Name="errorCode" Type="Edm.Int64" />"#,
        )
        .replace(r#"<Member Name="unknown" Value="99" />"#, r#"<Member Name="unknown" Value="98" />"#)
        .replace(r#"<Member Name="pendingReboot" Value="5000" />"#, "")
        .replace(r#"<Property Name="osVersion" Type="Edm.String" />"#, "")
        .replace(
            r#"<EntityType Name="mobileAppInstallStatus" BaseType="graph.entity">"#,
            r#"<EntityType Name="mobileAppInstallStatus" BaseType="graph.entity" OpenType="true">"#,
        );
    let actual = metadata::parse(target.as_bytes(), Limits::default()).unwrap();
    let d = compare(&m, &actual, "mobileAppInstallStatus").unwrap();
    let ids: Vec<&str> = d.iter().map(|d| d.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "type/mobileAppInstallStatus/open",
            "type/mobileAppInstallStatus/property/errorCode/type",
            "type/mobileAppInstallStatus/property/errorCode/nullable",
            "type/mobileAppInstallStatus/property/osVersion",
            "enum/resultantAppState/member/unknown/value",
            "enum/resultantAppStateDetail/member/pendingReboot",
        ]
    );
    assert_eq!(d[3].actual.words, "absent");
    assert_eq!(d[4].expected.words, "unknown=99");
    assert_eq!(d[4].actual.words, "unknown=98");
}
