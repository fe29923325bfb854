//! 模板: profile templates.

rpc_area! {
    "AddProfileTemplate" add_profile_template(pb::ProfileTemplateInput) -> pb::ProfileTemplate =
        |s, r| ops::templates::add_profile_template(&s.store, r);
    "DeleteProfileTemplate" delete_profile_template(pb::TemplateId) -> pb::TemplateId { id } =
        |s, r| ops::templates::delete_profile_template(&s.store, r.id);
    "UpdateProfileTemplate" update_profile_template(pb::ProfileTemplateInput)
        -> pb::ProfileTemplate = |s, r| ops::templates::update_profile_template(&s.store, r);
    "ProfileTemplateByName" profile_template_by_name(pb::TemplateName) -> pb::ProfileTemplate =
        |s, r| ops::templates::profile_template(&s.store, &r.template_name);
    "QueryProfileTemplate" query_profile_template(pb::QueryProfileTemplateRequest)
        -> pb::ProfileTemplateList { templates } =
        |s, r| ops::templates::query_profile_template(&s.store, &r.template_name, &r.parents_name);
}
