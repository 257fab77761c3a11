//! What a pushed image carries beside its bytes: the SLSA provenance of its build
//! ([`provenance`]).

pub mod provenance;
