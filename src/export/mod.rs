//! What the contract is exported as for other tools: an OpenAPI 3.1 document ([`openapi`]).

pub mod openapi;
