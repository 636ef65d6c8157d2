// SPDX-License-Identifier: GPL-2.0
//! Guest-side tests (placeholder).
