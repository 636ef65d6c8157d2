// SPDX-License-Identifier: GPL-2.0

//! The Rust structs against `uapi/dxg_drm.h` itself: a small C program,
//! built with the system compiler (`cc`, or `$CC`) against the header,
//! prints `sizeof`, `offsetof` and the size of every field, the ioctl
//! numbers and the constants; the test compares them with the Rust side.
//! The hard-coded sizes below guard the same ABI without a compiler.

use super::*;
use std::collections::BTreeMap;
use std::mem::{offset_of, size_of};
use std::path::PathBuf;
use std::process::Command;

fn field_size<T, F>(_: fn(&T) -> &F) -> usize {
    size_of::<F>()
}

/// `layouts!(c_struct: RustType { c_field: rust_field, ... }, ...)` gives
/// the C statements printing the layout and the Rust side's values.
macro_rules! layouts {
    ($( $cs:ident : $rt:ty { $( $cf:ident : $rf:ident ),* $(,)? } ),* $(,)?) => {
        fn c_layout_lines() -> String {
            let mut s = String::new();
            $(
                s += &format!(
                    "P(\"sizeof {0}\", sizeof(struct {0}));\n",
                    stringify!($cs)
                );
                $(
                    s += &format!(
                        "P(\"offsetof {0}.{1}\", offsetof(struct {0}, {1}));\n\
                         P(\"fieldsize {0}.{1}\", sizeof(((struct {0} *)0)->{1}));\n",
                        stringify!($cs),
                        stringify!($cf)
                    );
                )*
            )*
            s
        }

        fn rust_layout() -> BTreeMap<String, u64> {
            let mut m = BTreeMap::new();
            $(
                m.insert(format!("sizeof {}", stringify!($cs)), size_of::<$rt>() as u64);
                $(
                    m.insert(
                        format!("offsetof {}.{}", stringify!($cs), stringify!($cf)),
                        offset_of!($rt, $rf) as u64,
                    );
                    m.insert(
                        format!("fieldsize {}.{}", stringify!($cs), stringify!($cf)),
                        field_size(|s: &$rt| &s.$rf) as u64,
                    );
                )*
            )*
            m
        }
    };
}

layouts!(
    drm_dxg_query_adapter: DrmDxgQueryAdapter {
        size: size, flags: flags, luid: luid, uapi_version: uapi_version,
        host_version: host_version, adapter_flags: adapter_flags,
        reserved: reserved, description: description,
    },
    drm_dxg_query_adapter_info: DrmDxgQueryAdapterInfo {
        size: size, type: type_, data: data, data_size: data_size, reserved: reserved,
    },
    drm_dxg_device_create: DrmDxgDeviceCreate {
        size: size, flags: flags, device: device, reserved: reserved,
    },
    drm_dxg_device_destroy: DrmDxgDeviceDestroy { device: device, reserved: reserved },
    drm_dxg_context_create: DrmDxgContextCreate {
        size: size, flags: flags, device: device, node: node,
        engine_affinity: engine_affinity, context: context, priv_data: priv_data,
        priv_size: priv_size, reserved: reserved,
    },
    drm_dxg_context_destroy: DrmDxgContextDestroy { context: context, reserved: reserved },
    drm_dxg_gem_create: DrmDxgGemCreate {
        size: size, flags: flags, bo_size: bo_size, device: device, handle: handle,
        priv_data: priv_data, priv_size: priv_size, reserved: reserved,
    },
    drm_dxg_gem_mmap_offset: DrmDxgGemMmapOffset { handle: handle, flags: flags, offset: offset },
    drm_dxg_vm_bind: DrmDxgVmBind {
        size: size, op: op, device: device, handle: handle, offset: offset,
        range: range, va: va, flags: flags, reserved: reserved,
    },
    drm_dxg_sync: DrmDxgSync { handle: handle, flags: flags, point: point },
    drm_dxg_submit: DrmDxgSubmit {
        size: size, flags: flags, context: context, reserved: reserved,
        cmd_va: cmd_va, cmd_size: cmd_size, priv_data: priv_data,
        priv_size: priv_size, num_in_syncs: num_in_syncs, in_syncs: in_syncs,
        num_out_syncs: num_out_syncs, reserved2: reserved2, out_syncs: out_syncs,
    },
    drm_dxg_escape: DrmDxgEscape {
        size: size, flags: flags, device: device, context: context, data: data,
        data_size: data_size, type: type_,
    },
    drm_dxg_residency: DrmDxgResidency {
        size: size, op: op, device: device, count: count, handles: handles,
        reserved: reserved,
    },
    drm_dxg_query_state: DrmDxgQueryState {
        size: size, flags: flags, device: device, context: context, state: state,
        error: error, submitted: submitted, completed: completed,
    },
);

/// Constants of the header and their Rust values.
fn constants() -> Vec<(&'static str, u64)> {
    vec![
        ("DXG_UAPI_VERSION", u64::from(DXG_UAPI_VERSION)),
        (
            "DXG_ADAPTER_COMPUTE_ONLY",
            u64::from(DXG_ADAPTER_COMPUTE_ONLY),
        ),
        ("DXG_DESCRIPTION_LEN", DXG_DESCRIPTION_LEN as u64),
        ("DXG_QUERY_MAX", DXG_QUERY_MAX as u64),
        ("DXG_PRIV_MAX", DXG_PRIV_MAX as u64),
        ("DXG_VM_BIND_MAP", u64::from(DXG_VM_BIND_MAP)),
        ("DXG_VM_BIND_UNMAP", u64::from(DXG_VM_BIND_UNMAP)),
        ("DXG_MAX_SYNCS", DXG_MAX_SYNCS as u64),
        (
            "DXG_RESIDENCY_MAKE_RESIDENT",
            u64::from(DXG_RESIDENCY_MAKE_RESIDENT),
        ),
        ("DXG_RESIDENCY_EVICT", u64::from(DXG_RESIDENCY_EVICT)),
        ("DXG_MAX_RESIDENCY", DXG_MAX_RESIDENCY as u64),
        ("DXG_STATE_ACTIVE", u64::from(DXG_STATE_ACTIVE)),
        ("DXG_STATE_CONTEXT_LOST", u64::from(DXG_STATE_CONTEXT_LOST)),
        ("DXG_STATE_DEVICE_LOST", u64::from(DXG_STATE_DEVICE_LOST)),
        ("DXG_STATE_HOST_GONE", u64::from(DXG_STATE_HOST_GONE)),
        ("DRM_DXG_DEVICE_CREATE", u64::from(DRM_DXG_DEVICE_CREATE)),
        ("DRM_DXG_DEVICE_DESTROY", u64::from(DRM_DXG_DEVICE_DESTROY)),
        ("DRM_DXG_CONTEXT_CREATE", u64::from(DRM_DXG_CONTEXT_CREATE)),
        (
            "DRM_DXG_CONTEXT_DESTROY",
            u64::from(DRM_DXG_CONTEXT_DESTROY),
        ),
        ("DRM_DXG_GEM_CREATE", u64::from(DRM_DXG_GEM_CREATE)),
        (
            "DRM_DXG_GEM_MMAP_OFFSET",
            u64::from(DRM_DXG_GEM_MMAP_OFFSET),
        ),
        ("DRM_DXG_VM_BIND", u64::from(DRM_DXG_VM_BIND)),
        ("DRM_DXG_SUBMIT", u64::from(DRM_DXG_SUBMIT)),
        ("DRM_DXG_ESCAPE", u64::from(DRM_DXG_ESCAPE)),
        ("DRM_DXG_RESIDENCY", u64::from(DRM_DXG_RESIDENCY)),
        ("DRM_DXG_QUERY_STATE", u64::from(DRM_DXG_QUERY_STATE)),
    ]
}

fn expected() -> BTreeMap<String, u64> {
    let mut m = rust_layout();
    for (name, v) in constants() {
        m.insert(format!("const {name}"), v);
    }
    for (name, code) in ioctl_codes() {
        m.insert(format!("ioctl {name}"), code);
    }
    m
}

fn c_program() -> String {
    let mut s = String::from(
        "#include <stddef.h>\n#include <stdio.h>\n#include \"dxg_drm.h\"\n\
         #define P(n, v) printf(\"%s %llu\\n\", n, (unsigned long long)(v))\n\
         int main(void)\n{\n",
    );
    s += &c_layout_lines();
    for (name, _) in constants() {
        s += &format!("P(\"const {name}\", {name});\n");
    }
    for (name, _) in ioctl_codes() {
        // Through unsigned int: the enum constants are ints in C.
        s += &format!("P(\"ioctl {name}\", (unsigned int){name});\n");
    }
    s += "return 0;\n}\n";
    s
}

#[test]
fn hard_coded_sizes_match_the_header() {
    let sizes = [
        (size_of::<DrmDxgQueryAdapter>(), 160),
        (size_of::<DrmDxgQueryAdapterInfo>(), 24),
        (size_of::<DrmDxgDeviceCreate>(), 16),
        (size_of::<DrmDxgDeviceDestroy>(), 8),
        (size_of::<DrmDxgContextCreate>(), 40),
        (size_of::<DrmDxgContextDestroy>(), 8),
        (size_of::<DrmDxgGemCreate>(), 40),
        (size_of::<DrmDxgGemMmapOffset>(), 16),
        (size_of::<DrmDxgVmBind>(), 48),
        (size_of::<DrmDxgSync>(), 16),
        (size_of::<DrmDxgSubmit>(), 72),
        (size_of::<DrmDxgEscape>(), 32),
        (size_of::<DrmDxgResidency>(), 32),
        (size_of::<DrmDxgQueryState>(), 40),
    ];
    for (i, (got, want)) in sizes.iter().enumerate() {
        assert_eq!(got, want, "struct #{i}");
    }
    // Every u64 field is 8-aligned (no implicit padding anywhere).
    assert_eq!(offset_of!(DrmDxgContextCreate, priv_data), 24);
    assert_eq!(offset_of!(DrmDxgGemCreate, bo_size), 8);
    assert_eq!(offset_of!(DrmDxgGemCreate, priv_data), 24);
    assert_eq!(offset_of!(DrmDxgVmBind, offset), 16);
    assert_eq!(offset_of!(DrmDxgVmBind, va), 32);
    assert_eq!(offset_of!(DrmDxgVmBind, flags), 40);
    assert_eq!(offset_of!(DrmDxgSubmit, cmd_va), 16);
    assert_eq!(offset_of!(DrmDxgSubmit, priv_size), 40);
    assert_eq!(offset_of!(DrmDxgSubmit, in_syncs), 48);
    assert_eq!(offset_of!(DrmDxgSubmit, num_out_syncs), 56);
    assert_eq!(offset_of!(DrmDxgSubmit, out_syncs), 64);
    assert_eq!(offset_of!(DrmDxgEscape, data), 16);
    assert_eq!(offset_of!(DrmDxgEscape, type_), 28);
    assert_eq!(offset_of!(DrmDxgResidency, handles), 16);
    assert_eq!(offset_of!(DrmDxgResidency, reserved), 24);
    assert_eq!(offset_of!(DrmDxgSync, point), 8);
    assert_eq!(offset_of!(DrmDxgQueryState, error), 20);
    assert_eq!(offset_of!(DrmDxgQueryState, submitted), 24);
    assert_eq!(offset_of!(DrmDxgQueryState, completed), 32);
}

#[test]
fn ioctl_directions_match_the_header() {
    // DRM_IOWR: dir 3 (read|write); DRM_IOW: dir 1 (userspace writes).
    let dir = |name: &str| {
        ioctl_codes()
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, c)| c >> 30)
            .unwrap()
    };
    for n in [
        "DRM_IOCTL_DXG_DEVICE_CREATE",
        "DRM_IOCTL_DXG_CONTEXT_CREATE",
        "DRM_IOCTL_DXG_GEM_CREATE",
        "DRM_IOCTL_DXG_GEM_MMAP_OFFSET",
        "DRM_IOCTL_DXG_QUERY_STATE",
    ] {
        assert_eq!(dir(n), 3, "{n}");
    }
    for n in [
        "DRM_IOCTL_DXG_DEVICE_DESTROY",
        "DRM_IOCTL_DXG_CONTEXT_DESTROY",
        "DRM_IOCTL_DXG_VM_BIND",
        "DRM_IOCTL_DXG_SUBMIT",
        "DRM_IOCTL_DXG_ESCAPE",
        "DRM_IOCTL_DXG_RESIDENCY",
    ] {
        assert_eq!(dir(n), 1, "{n}");
    }
    // DRM_IOW(DRM_COMMAND_BASE + 0x09, 72 bytes).
    let submit = ioctl_codes()[9];
    assert_eq!(submit.0, "DRM_IOCTL_DXG_SUBMIT");
    assert_eq!(
        submit.1,
        (1 << 30) | (72 << 16) | ((b'd' as u64) << 8) | 0x49
    );
    // DRM_IOWR(DRM_COMMAND_BASE + 0x0c, 40 bytes), the last entry.
    let query_state = ioctl_codes()[12];
    assert_eq!(query_state.0, "DRM_IOCTL_DXG_QUERY_STATE");
    assert_eq!(
        query_state.1,
        (3 << 30) | (40 << 16) | ((b'd' as u64) << 8) | 0x4c
    );
    // One entry per ioctl number, in order: 0x00..=0x0c.
    for (i, (n, c)) in ioctl_codes().iter().enumerate() {
        assert_eq!(c & 0xff, 0x40 + i as u64, "{n}");
    }
}

/// Compiles the C program against `uapi/dxg_drm.h` and compares. Needs a C
/// compiler and libdrm's `drm.h` (libdrm-dev), both build dependencies of
/// the project (scripts/deps.sh); set `DXG_SKIP_C_LAYOUT=1` to skip.
#[test]
fn layout_matches_the_c_header_per_compiler() {
    if std::env::var_os("DXG_SKIP_C_LAYOUT").is_some() {
        eprintln!("DXG_SKIP_C_LAYOUT set: not compiling the C header");
        return;
    }
    let uapi = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let dir = std::env::temp_dir().join(format!("dxg-uapi-layout-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let src = dir.join("layout.c");
    let exe = dir.join("layout");
    std::fs::write(&src, c_program()).unwrap();
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let out = Command::new(&cc)
        .args(["-std=gnu11", "-Wall", "-Wextra", "-Werror", "-I"])
        .arg(&uapi)
        .args(["-I", "/usr/include/libdrm", "-o"])
        .arg(&exe)
        .arg(&src)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cc} (set DXG_SKIP_C_LAYOUT=1 to skip): {e}"));
    assert!(
        out.status.success(),
        "{cc} failed on {}:\n{}",
        src.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let run = Command::new(&exe).output().unwrap();
    assert!(run.status.success());
    let _ = std::fs::remove_dir_all(&dir);
    let c: BTreeMap<String, u64> = String::from_utf8(run.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let (k, v) = l.rsplit_once(' ').unwrap();
            (k.to_string(), v.parse().unwrap())
        })
        .collect();
    let rust = expected();
    let mut diffs = Vec::new();
    for (k, v) in &rust {
        match c.get(k) {
            Some(cv) if cv == v => {}
            other => diffs.push(format!("{k}: C {other:?}, Rust {v}")),
        }
    }
    assert_eq!(c.len(), rust.len());
    assert!(diffs.is_empty(), "layout differs:\n{}", diffs.join("\n"));
}
