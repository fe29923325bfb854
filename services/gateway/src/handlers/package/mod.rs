//! Packages (发布包): uploading, uploading and publishing in one call (what CI pipelines
//! use), and listing a server's packages.

mod server_patch_list;
mod store_package;
mod upload_and_publish;
mod upload_patch_package;

pub use server_patch_list::server_patch_list;
pub use upload_and_publish::upload_and_publish;
pub use upload_patch_package::upload_patch_package;
