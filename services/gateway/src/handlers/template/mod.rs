//! 模板: profile templates.

mod add_profile_template;
mod delete_profile_template;
mod profile_template;
mod query_profile_template;
mod update_profile_template;

pub use add_profile_template::add_profile_template;
pub use delete_profile_template::delete_profile_template;
pub use profile_template::profile_template;
pub use query_profile_template::query_profile_template;
pub use update_profile_template::update_profile_template;
