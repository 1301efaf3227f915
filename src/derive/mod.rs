//! The derive stage: the sources of a contract (the docs page, the Graph metadata) turned into
//! the data the contract is built from.

pub mod metadata;
