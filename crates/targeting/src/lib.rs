pub mod features;
pub mod metrics;
pub mod model;
pub mod modules;
pub mod score;
pub mod train;
pub mod trees;
