#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| weir_helm::fuzz_targets::template_parser(data));
