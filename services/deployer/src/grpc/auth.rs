//! 权限: roles and the audit log.

rpc_area! {
    "AuditLog" audit_log(pb::AuditLogRequest) -> pb::AuditPage =
        |s, r| ops::auth::audit_log(&s.store, r);
    "AuthGrant" auth_grant(pb::AuthGrantRequest) -> pb::AuthGrantRow =
        |s, r| ops::auth::auth_grant(&s.store, r);
    "AuthRevoke" auth_revoke(pb::AuthGrantRequest) -> pb::AuthGrantRow =
        |s, r| ops::auth::auth_revoke(&s.store, r);
    "AuthList" auth_list(pb::AuthListRequest) -> pb::AuthGrantList { grants } =
        |s, r| ops::auth::auth_list(&s.store, &r.user_name);
    "RecordAudit" record_audit(pb::AuditRow) -> Empty =
        |s, r| async move { ops::auth::record_audit(&s.store, r).await.map(|()| Empty {}) };
}
