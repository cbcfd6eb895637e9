mod chart;
mod documents;
mod export;
mod fhir;
mod notes;
mod share;
mod storage;
