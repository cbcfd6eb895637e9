mod chart;
mod documents;
mod export;
mod notes;
mod storage;
