pub mod features;
pub mod metrics;
pub mod model;
pub mod score;
pub mod train;
pub mod trees;
