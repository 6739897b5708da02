//! Tests of the reporters (`testmesh::report`) over flow results built by hand.

mod fixtures;
mod json;
mod junit;
mod targets;
mod terminal;
