//! tmp
pub mod attack;
pub mod correlation;
pub mod engine;
pub mod error;
pub mod events;
pub mod pipeline;
pub mod rules;
