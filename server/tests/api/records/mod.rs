mod chart;
mod notes;
mod storage;
