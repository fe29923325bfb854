//! 发布包: package records (the gateway keeps the files).

rpc_area! {
    "AddPackage" add_package(pb::AddPackageRequest) -> pb::Package =
        |s, r| ops::packages::upload_patch_package(&s.store, r);
    "PackageList" package_list(pb::PackageListRequest) -> pb::PackagePage =
        |s, r| ops::packages::server_patch_list(&s.store, r);
}
