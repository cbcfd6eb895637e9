mod chart;
mod notes;
