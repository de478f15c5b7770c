//! The importer end to end on small inputs: keepalived text in memory in, TOML and notes out.

use std::path::Path;

use super::*;

fn import_text(text: &str) -> Result<Imported, Failed> {
    let mut files = MemFiles::new();
    files.add("/etc/keepalived/keepalived.conf", text);
    let options = Options {
        config_id: Some("lb1".to_owned()),
        ..Options::default()
    };
    import(
        Path::new("/etc/keepalived/keepalived.conf"),
        &files,
        &options,
    )
}

#[test]
fn smallest() {
    let i = import_text(
        "vrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 51\n  \
         virtual_ipaddress {\n    192.0.2.50\n  }\n}\n",
    )
    .unwrap();
    let inst = &i.config.instances[0];
    assert_eq!(inst.name, "VI_1");
    assert_eq!(inst.virtual_addresses[0].to_string(), "192.0.2.50/32");
}
