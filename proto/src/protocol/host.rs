// SPDX-License-Identifier: GPL-2.0

//! Host-to-guest messages (dxgkrnl dxgvmbus.h, enum
//! dxgkvmb_commandtype_host_to_vm; dxgvmbus.c, process_inband_packet(),
//! signal_guest_event() and set_guest_data()). They arrive as in-band
//! packets on the global channel only, without extension header, and are
//! never answered with a completion.

use zerocopy::little_endian::{U32, U64};
use zerocopy::FromBytes;
use zerocopy_derive::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

use super::codec::Writer;
use super::command::HostCommand;
use super::error::{ProtoError, ProtoResult};
use super::header::CommandHeader;

/// SIGNALGUESTEVENT (0) / SIGNALGUESTEVENTPASSIVE (3): the CPU wait or
/// CPU-notification object registered with `event` is signalled.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned,
)]
#[repr(C)]
pub struct SignalGuestEvent {
    /// Host header, command 0 or 3.
    pub hdr: CommandHeader,
    /// Guest event id; 0 is invalid.
    pub event: U64,
    /// Ignored by guests.
    pub process_id: U64,
    /// Ignored by guests.
    pub dereference_event: u8,
    /// Padding.
    pub pad: [u8; 7],
}
const _: () = assert!(core::mem::size_of::<SignalGuestEvent>() == 48);

impl SignalGuestEvent {
    /// Signals `event` (`passive` selects SIGNALGUESTEVENTPASSIVE).
    pub const fn new(event: u64, passive: bool) -> Self {
        let cmd = if passive {
            HostCommand::SignalGuestEventPassive
        } else {
            HostCommand::SignalGuestEvent
        };
        SignalGuestEvent {
            hdr: CommandHeader::host(cmd),
            event: U64::new(event),
            process_id: U64::new(0),
            dereference_event: 0,
            pad: [0; 7],
        }
    }
}

/// SETGUESTDATA data type: dword.
pub const SETGUESTDATA_DWORD: u32 = 0;
/// SETGUESTDATA data type: u64.
pub const SETGUESTDATA_U64: u32 = 1;

/// SETGUESTDATA (2): the host tells a device's execution state changed by
/// naming the cookie of its CREATEDEVICE.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned,
)]
#[repr(C)]
pub struct SetGuestData {
    /// Host header, command 2.
    pub hdr: CommandHeader,
    /// The device-state cookie sent in CREATEDEVICE.
    pub guest_pointer: U64,
    /// The data (u64, or u32 in the low half for dwords).
    pub data: U64,
    /// Bit 0 dereference; bits 1-4 data type (`SETGUESTDATA_*`).
    pub bits: U32,
    /// Padding.
    pub pad: U32,
}
const _: () = assert!(core::mem::size_of::<SetGuestData>() == 48);

impl SetGuestData {
    /// A dword update of `cookie` with `value`.
    pub const fn dword(cookie: u64, value: u32) -> Self {
        SetGuestData {
            hdr: CommandHeader::host(HostCommand::SetGuestData),
            guest_pointer: U64::new(cookie),
            data: U64::new(value as u64),
            bits: U32::new(SETGUESTDATA_DWORD << 1),
            pad: U32::new(0),
        }
    }

    /// The data type in bits 1-4.
    pub const fn data_type(&self) -> u32 {
        (self.bits.get() >> 1) & 0xf
    }

    /// The low 32 bits of the data.
    pub const fn data32(&self) -> u32 {
        let [a, b, c, d, ..] = self.data.get().to_le_bytes();
        u32::from_le_bytes([a, b, c, d])
    }

    /// True if this is the device-state notification the original acts
    /// on: dword type and non-zero value.
    pub const fn is_device_state_change(&self) -> bool {
        self.data_type() == SETGUESTDATA_DWORD && self.data32() != 0
    }
}

/// A decoded host-to-guest message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HostMessage {
    /// SIGNALGUESTEVENT or SIGNALGUESTEVENTPASSIVE with a non-zero id.
    SignalGuestEvent {
        /// The event id.
        event: u64,
        /// True for the passive variant.
        passive: bool,
    },
    /// SETGUESTDATA.
    SetGuestData(SetGuestData),
    /// SENDWNFNOTIFICATION (ignored by guests).
    WnfNotification,
    /// PROPAGATEPRESENTHISTORYTOKEN (unexpected in Linux guests).
    PresentHistoryToken,
}

/// Decodes an in-band payload from the global channel (guest side).
///
/// Checks the exact minimum length per type (48 bytes for the event and
/// guest-data messages) and rejects a zero event id. Like the original
/// driver, the header's channel type is not checked.
pub fn decode_host_message(payload: &[u8]) -> ProtoResult<HostMessage> {
    let (hdr, _) = CommandHeader::read_from_prefix(payload).map_err(|_| ProtoError::Truncated)?;
    match hdr.host_command()? {
        cmd @ (HostCommand::SignalGuestEvent | HostCommand::SignalGuestEventPassive) => {
            let (m, _) =
                SignalGuestEvent::read_from_prefix(payload).map_err(|_| ProtoError::Truncated)?;
            let event = m.event.get();
            if event == 0 {
                return Err(ProtoError::BadValue);
            }
            Ok(HostMessage::SignalGuestEvent {
                event,
                passive: cmd == HostCommand::SignalGuestEventPassive,
            })
        }
        HostCommand::SetGuestData => {
            let (m, _) =
                SetGuestData::read_from_prefix(payload).map_err(|_| ProtoError::Truncated)?;
            Ok(HostMessage::SetGuestData(m))
        }
        HostCommand::SendWnfNotification => Ok(HostMessage::WnfNotification),
        HostCommand::PropagatePresentHistoryToken => Ok(HostMessage::PresentHistoryToken),
    }
}

/// Encodes a host-to-guest message (host side); returns its length.
/// `WnfNotification` and `PresentHistoryToken` are sent as a bare header.
pub fn encode_host_message(msg: &HostMessage, buf: &mut [u8]) -> ProtoResult<usize> {
    let mut w = Writer::new(buf);
    match msg {
        HostMessage::SignalGuestEvent { event, passive } => {
            w.put(&SignalGuestEvent::new(*event, *passive))?
        }
        HostMessage::SetGuestData(d) => w.put(d)?,
        HostMessage::WnfNotification => {
            w.put(&CommandHeader::host(HostCommand::SendWnfNotification))?
        }
        HostMessage::PresentHistoryToken => w.put(&CommandHeader::host(
            HostCommand::PropagatePresentHistoryToken,
        ))?,
    }
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::mem::offset_of;

    #[test]
    fn layout() {
        assert_eq!(offset_of!(SignalGuestEvent, event), 24);
        assert_eq!(offset_of!(SignalGuestEvent, process_id), 32);
        assert_eq!(offset_of!(SignalGuestEvent, dereference_event), 40);
        assert_eq!(offset_of!(SetGuestData, guest_pointer), 24);
        assert_eq!(offset_of!(SetGuestData, data), 32);
        assert_eq!(offset_of!(SetGuestData, bits), 40);
    }

    #[test]
    fn round_trip() {
        let mut buf = [0u8; 64];
        for m in [
            HostMessage::SignalGuestEvent {
                event: 2,
                passive: false,
            },
            HostMessage::SignalGuestEvent {
                event: u64::MAX,
                passive: true,
            },
            HostMessage::SetGuestData(SetGuestData::dword(0xabc, 1)),
            HostMessage::WnfNotification,
            HostMessage::PresentHistoryToken,
        ] {
            let n = encode_host_message(&m, &mut buf).unwrap();
            assert_eq!(decode_host_message(&buf[..n]), Ok(m));
        }
        assert!(SetGuestData::dword(1, 1).is_device_state_change());
        assert!(!SetGuestData::dword(1, 0).is_device_state_change());
    }

    #[test]
    fn bad() {
        let mut buf = [0u8; 64];
        let n = encode_host_message(
            &HostMessage::SignalGuestEvent {
                event: 5,
                passive: false,
            },
            &mut buf,
        )
        .unwrap();
        assert_eq!(
            decode_host_message(&buf[..n - 1]),
            Err(ProtoError::Truncated)
        );
        assert_eq!(decode_host_message(&buf[..20]), Err(ProtoError::Truncated));
        let mut z = buf;
        z[24..32].fill(0);
        assert_eq!(decode_host_message(&z[..n]), Err(ProtoError::BadValue));
        let mut u = buf;
        u[16] = 5;
        assert_eq!(
            decode_host_message(&u[..n]),
            Err(ProtoError::UnknownCommand)
        );
        let n = encode_host_message(
            &HostMessage::SetGuestData(SetGuestData::dword(1, 2)),
            &mut buf,
        )
        .unwrap();
        assert_eq!(
            decode_host_message(&buf[..n - 8]),
            Err(ProtoError::Truncated)
        );
    }
}
