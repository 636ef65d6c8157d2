// SPDX-License-Identifier: GPL-2.0

//! Cross-module tests: round trip of every sample message, truncation of
//! every sample, oversized and garbage input.

use std::vec::Vec;

use zerocopy::little_endian::U32;

use super::adapter::{decode_query_adapter_info_reply, AdapterInfoReply, OpenAdapterReply};
use super::alloc::{AllocInfo, CreateAllocationReply};
use super::codec::{decode_reply, encode_reply, Writer};
use super::command::{CommandId, VgpuCommand as V};
use super::consts::MAX_MESSAGE_SIZE;
use super::context::CreateContextMsg;
use super::error::{ProtoError, ProtoResult};
use super::gpuva::MapGpuVaReply;
use super::header::{parse_guest_message, Framing};
use super::host::{decode_host_message, encode_host_message};
use super::reply::{decode_status, encode_status};
use super::request::{decode_any, Request};
use super::residency::MakeResidentReply;
use super::samples::{for_each_sample, Sample, SampleKind};
use super::vmbus::{decode_packet, encode_packet};

fn samples() -> Vec<(SampleKind, Vec<u8>, usize)> {
    let mut v = Vec::new();
    for_each_sample(&mut |s: Sample<'_>| v.push((s.kind, s.bytes.to_vec(), s.min_len)));
    v
}

fn info(size: u32) -> AllocInfo {
    AllocInfo {
        flags: U32::new(0),
        priv_drv_data_size: U32::new(size),
        vidpn_source_id: U32::new(0),
    }
}

/// Decodes `b` as `kind` and re-encodes it into `out`.
fn reencode(kind: SampleKind, b: &[u8], out: &mut [u8]) -> ProtoResult<usize> {
    match kind {
        SampleKind::Request { ext_header } => {
            let (m, r) = Request::parse(b, ext_header)?;
            let f = match m.ext {
                Some(e) => Framing::with_ext_header(e.vgpu_luid),
                None => Framing::without_ext_header(),
            };
            assert!(!matches!(r, Request::Unsupported(_)));
            r.encode(&f, out)
        }
        SampleKind::HostMessage => encode_host_message(&decode_host_message(b)?, out),
        SampleKind::Packet => {
            let (p, used) = decode_packet(b)?;
            assert_eq!(used, b.len());
            encode_packet(out, p.ptype, p.flags, p.trans_id, p.payload, p.prev_indices)
        }
        SampleKind::Reply(CommandId::Vgpu(id)) => match id {
            V::DestroyDevice => encode_status(decode_status(b)?, out),
            V::OpenAdapter => encode_reply(&decode_reply::<OpenAdapterReply>(b)?, out),
            V::MapGpuVirtualAddress => encode_reply(&decode_reply::<MapGpuVaReply>(b)?, out),
            V::MakeResident => encode_reply(&decode_reply::<MakeResidentReply>(b)?, out),
            V::GetInternalAdapterInfo => AdapterInfoReply::decode(b, 40)?.encode(40, out),
            V::QueryAdapterInfo => {
                let (s, d) = decode_query_adapter_info_reply(b, 40, 4)?;
                super::adapter::encode_query_adapter_info_reply(out, 40, s, d)
            }
            V::CreateAllocation => {
                CreateAllocationReply::decode(b, &[info(2), info(0)])?.encode(out)
            }
            V::CreateContextVirtual => {
                let (h, _) = CreateContextMsg::decode_reply(b, 3)?;
                let mut m = CreateContextMsg::decode(b)?;
                m.cmd.context = h;
                m.encode_reply(out)
            }
            other => panic!("no decoder for {other:?}"),
        },
        SampleKind::Reply(other) => panic!("no decoder for {other:?}"),
    }
}

#[test]
fn every_sample_round_trips() {
    let all = samples();
    assert!(all.len() > 90, "only {} samples", all.len());
    let mut kinds = std::collections::BTreeSet::new();
    for (kind, b, _) in &all {
        let mut out = [0u8; 2048];
        let n = reencode(*kind, b, &mut out).unwrap_or_else(|e| panic!("{kind:?}: {e}"));
        assert_eq!(&out[..n], &b[..], "{kind:?}");
        if let SampleKind::Request { .. } = kind {
            kinds.insert(
                parse_guest_message(b, true)
                    .or(parse_guest_message(b, false))
                    .unwrap()
                    .id
                    .name(),
            );
        }
    }
    // Every modelled request kind has a sample.
    assert_eq!(kinds.len(), 39, "{kinds:?}");
}

#[test]
fn every_truncation_is_rejected() {
    for (kind, b, min_len) in samples() {
        let mut out = [0u8; 2048];
        for len in 0..min_len {
            assert!(
                reencode(kind, &b[..len], &mut out).is_err(),
                "{kind:?} accepted a {len}-byte prefix of {}",
                b.len()
            );
        }
        assert!(
            reencode(kind, &b[..min_len], &mut out).is_ok(),
            "{kind:?} min_len {min_len}"
        );
    }
}

#[test]
fn encoders_respect_buffer_size() {
    for (kind, b, _) in samples() {
        let mut out = [0u8; 2048];
        for cap in [0, 1, b.len() / 2, b.len().saturating_sub(1)] {
            assert_eq!(
                reencode(kind, &b, &mut out[..cap]),
                Err(ProtoError::BufferTooSmall),
                "{kind:?} cap {cap}"
            );
        }
    }
}

#[test]
fn oversized_input() {
    let big = std::vec![0u8; MAX_MESSAGE_SIZE + 1];
    assert_eq!(parse_guest_message(&big, false), Err(ProtoError::TooLarge));
    let mut out = std::vec![0u8; MAX_MESSAGE_SIZE + 64];
    let mut w = Writer::new(&mut out);
    w.put_zeros(MAX_MESSAGE_SIZE + 1).unwrap();
    assert_eq!(w.finish(), Err(ProtoError::TooLarge));
    // A request whose payload pushes it over the limit.
    let data = std::vec![0u8; MAX_MESSAGE_SIZE];
    let m = super::misc::EscapeMsg::new(
        super::handle::Handle::new(1),
        super::handle::Handle::new(2),
        super::handle::Handle::NULL,
        0,
        0,
        &data,
    )
    .unwrap();
    assert_eq!(
        m.encode(&Framing::without_ext_header(), &mut out),
        Err(ProtoError::TooLarge)
    );
}

#[test]
fn garbage_and_mutations_never_panic() {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut buf = [0u8; 1200];
    for _ in 0..3000 {
        let len = (next() % 1200) as usize;
        for b in buf[..len].iter_mut() {
            *b = next() as u8;
        }
        decode_any(&buf[..len]);
    }
    for (_, b, _) in samples() {
        for _ in 0..50 {
            let mut m = b.clone();
            let i = (next() as usize) % m.len();
            m[i] = next() as u8;
            decode_any(&m);
        }
    }
}
