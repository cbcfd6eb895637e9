mod chart;
mod documents;
mod notes;
mod storage;
