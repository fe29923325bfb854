//! The profile templates a fresh installation starts with. Installed only when no
//! template of that name exists, so an operator's edits are never overwritten.
//!
//! `${…}` placeholders are filled in by tarsnode when it renders a server's config.

use crate::{Store, StoreError, StoreResult};

/// Name, parent and body of each shipped template.
const DEFAULT_TEMPLATES: &[(&str, &str, &str)] = &[
    ("tars.default", "tars.default", BASE),
    ("tars.cpp.default", "tars.default", CPP),
    ("tars.go.default", "tars.default", GO),
    ("tars.java.default", "tars.default", JAVA),
    ("tars.nodejs.default", "tars.default", NODEJS),
    ("tars.php.default", "tars.default", PHP),
];

/// The root template: what every TARS server process needs to find the framework.
const BASE: &str = r#"<tars>
  <application>
    enableset=${enableset}
    setdivision=${setdivision}
    <client>
      # where to find the registry (filled by tarsnode)
      locator=${locator}
      sync-invoke-timeout=3000
      async-invoke-timeout=5000
      refresh-endpoint-interval=60000
      report-interval=60000
      stat=tars.tarsstat.StatObj
      property=tars.tarsproperty.PropertyObj
      asyncthread=${asyncthread}
      modulename=${modulename}
    </client>
    <server>
      app=${app}
      server=${server}
      localip=${localip}
      local=${local}
      basepath=${basepath}
      datapath=${datapath}
      logpath=${logpath}
      logsize=10M
      lognum=10
      logLevel=INFO
      config=tars.tarsconfig.ConfigObj
      notify=tars.tarsnotify.NotifyObj
      log=tars.tarslog.LogObj
      deactivating-timeout=3000
    </server>
  </application>
</tars>
"#;

const CPP: &str = r#"<tars>
  <application>
    <server>
      # C++ servers: keep the loop responsive under load
      netthread=2
      mergenetasync=0
    </server>
  </application>
</tars>
"#;

const GO: &str = r#"<tars>
  <application>
    <server>
      # Go servers: graceful stop window in milliseconds
      gracefulshutdowntimeout=5000
    </server>
  </application>
</tars>
"#;

const JAVA: &str = r#"<tars>
  <application>
    # JVM options used by the Java launcher
    jvmparams=-Xms512m -Xmx512m
    mainclass=com.qq.tars.server.startup.Main
    classpath=${basepath}/conf:${basepath}/lib
    <server>
      sessiontimeout=120000
    </server>
  </application>
</tars>
"#;

const NODEJS: &str = r#"<tars>
  <application>
    <server>
      # Node.js servers: worker processes (auto = one per core)
      instances=auto
      script=
    </server>
  </application>
</tars>
"#;

const PHP: &str = r#"<tars>
  <application>
    <server>
      # PHP servers: swoole settings
      package_length_type=N
      open_length_check=1
      package_length_offset=0
      package_body_offset=0
    </server>
  </application>
</tars>
"#;

/// Inserts each shipped template whose name is not taken yet.
pub(crate) async fn install_missing(store: &Store) -> StoreResult<()> {
    let now = tars_common::time::now_local();
    for (name, parent, profile) in DEFAULT_TEMPLATES {
        if store.template_by_name(name).await?.is_some() {
            continue;
        }
        match store
            .insert_template(name, parent, profile, now, "system")
            .await
        {
            // Another replica installed it between our check and insert: fine.
            Ok(_) | Err(StoreError::AlreadyExists(_)) => {}
            Err(err) => return Err(err),
        }
    }
    Ok(())
}
