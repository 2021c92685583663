#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| twinport_fuzz_harness::ngsi_ld_link(data));
